// The Extism Plugin API: every row of the call lifecycle and the limits in ../shared/extism-abi.md,
// with the exact output, error text and return code, and hostile plugins that must end with the
// documented error while leaving the plugin (and the next one) usable.
#include "hostabi/plugin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include "http_test_server.h"

namespace warden::extism {
namespace {

std::vector<uint8_t> read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::vector<uint8_t> plugin_bytes(const std::string& name) {
  return read(std::string(WARDEN_PLUGINS) + "/" + name + ".wasm");
}
std::vector<uint8_t> test_bytes(const std::string& name) {
  return read(std::string(WARDEN_TEST_DATA) + "/" + name + ".wasm");
}

std::unique_ptr<Plugin> make(const std::vector<uint8_t>& wasm, PluginOptions options = {}) {
  auto p = Plugin::create(wasm, std::move(options));
  EXPECT_TRUE(p) << p.error().message;
  return p ? std::move(*p) : nullptr;
}
std::unique_ptr<Plugin> make(const Manifest& manifest, PluginOptions options = {}) {
  auto p = Plugin::create(manifest, std::move(options));
  EXPECT_TRUE(p) << p.error().message;
  return p ? std::move(*p) : nullptr;
}
WasmSource source(std::vector<uint8_t> wasm, std::optional<std::string> name = std::nullopt) {
  WasmSource s;
  s.data = std::move(wasm);
  s.name = std::move(name);
  return s;
}
WasmSource source_at(WasmSource::Kind kind, std::string where) {
  WasmSource s;
  s.kind = kind;
  (kind == WasmSource::Kind::Path ? s.path : s.url) = std::move(where);
  return s;
}
Manifest manifest_of(std::vector<uint8_t> wasm) {
  Manifest m;
  m.wasm.push_back(source(std::move(wasm)));
  return m;
}

std::string ok(Plugin& p, std::string_view function, std::string_view input = "") {
  auto r = p.call(function, input);
  EXPECT_TRUE(r) << function << ": " << r.error().message;
  return r ? std::string(*r) : std::string();
}
PluginError err(Plugin& p, std::string_view function, std::string_view input = "") {
  auto r = p.call(function, input);
  EXPECT_FALSE(r) << function << " succeeded with output " << (r ? std::string(*r) : "");
  return r ? PluginError{ErrorKind::HostError, "<no error>", 0} : r.error();
}

// ---- results and errors ----

// A plugin built with -msimd128 (examples/plugins/simd_stats.c): its vector loops must give what
// a byte-at-a-time reference gives, for every length around the 16-byte block edges.
TEST(Plugin, SimdPluginMatchesAScalarReference) {
  auto p = make(manifest_of(plugin_bytes("simd_stats")));
  std::string text;
  uint32_t x = 12345;
  for (size_t length : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 33u, 1000u, 65537u}) {
    text.clear();
    for (size_t i = 0; i < length; ++i) {
      x = x * 1103515245u + 12345u;
      text.push_back(static_cast<char>(x >> 16));
    }
    uint64_t letters = 0, digits = 0, spaces = 0, sum = 0;
    unsigned max = 0;
    std::string upper = text;
    for (char& c : upper) {
      const unsigned char b = static_cast<unsigned char>(c);
      letters += (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
      digits += b >= '0' && b <= '9';
      spaces += b == ' ';
      sum += b;
      max = std::max<unsigned>(max, b);
      if (b >= 'a' && b <= 'z') c = static_cast<char>(b - 32);
    }
    const std::string expected =
        "{\"bytes\":" + std::to_string(length) + ",\"letters\":" + std::to_string(letters) +
        ",\"digits\":" + std::to_string(digits) + ",\"spaces\":" + std::to_string(spaces) +
        ",\"sum\":" + std::to_string(sum) + ",\"max\":" + std::to_string(max) + "}\n" + upper;
    EXPECT_EQ(ok(*p, "byte_stats", text), expected) << length << " bytes";
  }
}

TEST(Plugin, CountVowelsWithConfigAndVarsPersistingBetweenCalls) {
  auto m = manifest_of(plugin_bytes("count_vowels"));
  auto p = make(m);
  EXPECT_EQ(ok(*p, "count_vowels", "Hello, World!"),
            R"({"count":3,"total":3,"vowels":"aeiouAEIOU"})");
  EXPECT_EQ(ok(*p, "count_vowels", "aaa"), R"({"count":3,"total":6,"vowels":"aeiouAEIOU"})");
  p->update_config({{"vowels", "lo"}});
  EXPECT_EQ(ok(*p, "count_vowels", "Hello, World!"), R"({"count":5,"total":11,"vowels":"lo"})");
  // A second plugin from the same bytes has its own variables.
  m.config["vowels"] = "W";
  auto q = make(m);
  EXPECT_EQ(ok(*q, "count_vowels", "Hello, World!"), R"({"count":1,"total":1,"vowels":"W"})");
}

TEST(Plugin, CreateLikeSharesTheModulesAndManifestButNotTheState) {
  auto m = manifest_of(plugin_bytes("count_vowels"));
  m.config["vowels"] = "aeiouAEIOU";
  m.max_var_bytes = 100;
  auto p = make(m);
  EXPECT_EQ(ok(*p, "count_vowels", "aaa"), R"({"count":3,"total":3,"vowels":"aeiouAEIOU"})");
  p->update_config({{"vowels", "lo"}});  // the original's later changes are its own
  auto like = Plugin::create_like(*p, {});
  ASSERT_TRUE(like) << like.error().message;
  auto& q = **like;
  EXPECT_EQ(q.main_module(), p->main_module());  // compiled once
  EXPECT_EQ(q.quota().max_var_bytes, 100u);      // the manifest's limits hold
  EXPECT_EQ(ok(q, "count_vowels", "aaa"), R"({"count":3,"total":3,"vowels":"aeiouAEIOU"})");
  EXPECT_EQ(ok(q, "count_vowels", "aaa"), R"({"count":3,"total":6,"vowels":"aeiouAEIOU"})");
  EXPECT_EQ(ok(*p, "count_vowels", "Hello"), R"({"count":3,"total":6,"vowels":"lo"})");
  // Code is compiled per metering: a sibling that would meter fuel is refused, not miscompiled.
  PluginOptions metered;
  metered.quota.fuel_per_call = 1'000'000;
  auto refused = Plugin::create_like(*p, std::move(metered));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "a sibling plugin must keep its original's fuel metering");
}

TEST(Plugin, ErrorSetWithNonZeroReturn) {
  auto p = make(plugin_bytes("errors"));
  auto e = err(*p, "fail", "boom");
  EXPECT_EQ(e.message, "something went wrong: boom");
  EXPECT_EQ(e.rc, 1);
}

TEST(Plugin, ErrorSetFailsTheCallEvenWhenTheFunctionReturnsZero) {
  auto p = make(plugin_bytes("errors"));
  auto e = err(*p, "fail_with_zero");
  EXPECT_EQ(e.message, "error set, but returned 0");
  EXPECT_EQ(e.rc, -1);
  // The error is cleared for the next call.
  EXPECT_EQ(ok(*p, "void_ok"), "void function ran");
}

TEST(Plugin, NonZeroReturnWithoutError) {
  auto p = make(plugin_bytes("errors"));
  auto e = err(*p, "nonzero");
  EXPECT_EQ(e.message, "Returned non-zero exit code: 7");
  EXPECT_EQ(e.rc, 7);
}

TEST(Plugin, TrapIsRc134WithTheTrapMessage) {
  auto p = make(plugin_bytes("errors"));
  auto e = err(*p, "trap");
  EXPECT_EQ(e.message, "trap: unreachable");
  EXPECT_EQ(e.rc, 134);
  EXPECT_EQ(ok(*p, "void_ok"), "void function ran");
}

TEST(Plugin, TrapAfterErrorSetIsRcMinus1WithTheTrapMessage) {
  auto p = make(plugin_bytes("errors"));
  auto e = err(*p, "fail_then_trap");
  EXPECT_EQ(e.message, "trap: unreachable");
  EXPECT_EQ(e.rc, -1);
  // The error does not outlive the call: a plain trap is 134 again.
  EXPECT_EQ(err(*p, "trap").rc, 134);
}

TEST(Plugin, FunctionNotFoundOrNotAnExtismSignature) {
  auto p = make(plugin_bytes("errors"));
  EXPECT_TRUE(p->function_exists("fail"));
  EXPECT_TRUE(p->function_exists("void_ok"));
  EXPECT_FALSE(p->function_exists("takes_param"));
  EXPECT_FALSE(p->function_exists("memory"));
  auto e = err(*p, "missing");
  EXPECT_EQ(e.message, "Function not found: missing");
  EXPECT_EQ(e.rc, -1);
  // An export that is there but not callable as an Extism function says what it is.
  const PluginError wrong = err(*p, "takes_param");
  EXPECT_EQ(wrong.kind, ErrorKind::FunctionNotFound);
  EXPECT_EQ(wrong.message,
            "Function not found: takes_param has type (i32) -> (i32); an Extism function takes no "
            "parameters and returns i32 or nothing");
  EXPECT_EQ(err(*p, "memory").message,
            "Function not found: memory is a memory export, not a function");
}

TEST(Plugin, EmptyInputIsHandleZeroLengthZero) {
  auto p = make(test_bytes("plugin_lifecycle"));
  EXPECT_EQ(ok(*p, "input_is_null", ""), "1");
  EXPECT_EQ(ok(*p, "input_is_null", "x"), "0");
}

TEST(Plugin, EchoesBinaryInputExactly) {
  auto p = make(plugin_bytes("hostile"));
  std::string input;
  for (int i = 0; i < 100000; ++i) input += static_cast<char>(i * 7);
  EXPECT_EQ(ok(*p, "echo", input), input);
}

TEST(Plugin, OutputStaysValidUntilTheNextCall) {
  auto p = make(plugin_bytes("hostile"));
  auto first = p->call("echo", "first output");
  ASSERT_TRUE(first);
  const std::string_view view = *first;
  EXPECT_EQ(view, "first output");
  auto second = p->call("echo", "second");
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, "second");
}

// ---- lifecycle ----

TEST(Plugin, InitRunsOnceAndCtorsWinOverInitialize) {
  auto p = make(test_bytes("plugin_lifecycle"));
  EXPECT_EQ(ok(*p, "order"), "C");
  EXPECT_EQ(ok(*p, "order"), "C");
}

TEST(Plugin, InstantiationIsLazyAndAFailedInitIsRcMinus1OnEveryCall) {
  auto p = Plugin::create(test_bytes("plugin_init_trap"));
  ASSERT_TRUE(p) << "creation must not run the init function: " << p.error().message;
  EXPECT_TRUE((*p)->function_exists("run"));
  for (int i = 0; i < 2; ++i) {
    auto e = err(**p, "run");
    EXPECT_EQ(e.message, "failed to initialize wasi runtime: trap: unreachable");
    EXPECT_EQ(e.rc, -1);
  }
}

TEST(Plugin, AStartFunctionTrapIsReportedByTheFirstCall) {
  auto p = Plugin::create(test_bytes("plugin_start_trap"));
  ASSERT_TRUE(p) << p.error().message;
  auto e = err(**p, "run");
  EXPECT_EQ(e.message, "trap: out of bounds memory access");
  EXPECT_EQ(e.rc, -1);
}

TEST(Plugin, HaskellInitRunsInitializeThenHsInitWithZeros) {
  auto p = make(test_bytes("plugin_haskell_init"));
  EXPECT_EQ(ok(*p, "order"), "I0H");
}

TEST(Plugin, EveryHandleDiesWhenTheNextCallStarts) {
  auto p = make(test_bytes("plugin_lifecycle"));
  EXPECT_EQ(ok(*p, "keep_handle"), "");
  EXPECT_EQ(ok(*p, "kept_is_dead"), "dead");
}

TEST(Plugin, GlobalsAndMemoryPersistBetweenCalls) {
  auto p = make(test_bytes("plugin_lifecycle"));
  EXPECT_EQ(ok(*p, "count"), "1");
  EXPECT_EQ(ok(*p, "count"), "2");
  EXPECT_EQ(ok(*p, "count"), "3");
}

TEST(Plugin, StartGivesAFreshInstanceWithEmptyVariables) {
  auto p = make(test_bytes("plugin_lifecycle"));
  EXPECT_EQ(ok(*p, "set_var", "kept"), "");
  EXPECT_EQ(ok(*p, "get_var"), "kept");
  EXPECT_EQ(ok(*p, "count"), "1");
  EXPECT_EQ(ok(*p, "_start"), "");
  EXPECT_EQ(ok(*p, "count"), "1");   // fresh globals
  EXPECT_EQ(ok(*p, "get_var"), "");  // empty variables
  EXPECT_EQ(ok(*p, "order"), "C");   // init ran again, once
}

TEST(Plugin, ProcExitZeroIsSuccessOtherCodesAreErrors) {
  PluginOptions wasi;
  wasi.wasi = true;
  auto p = make(test_bytes("plugin_exit"), wasi);
  EXPECT_EQ(ok(*p, "exit", ""), "");
  auto e = err(*p, "exit", "abc");
  EXPECT_EQ(e.message, "Exited with i32 exit status 3");
  EXPECT_EQ(e.rc, 3);
}

TEST(Plugin, WasiImportsWithoutWasiAreRefusedAtCreation) {
  auto p = Plugin::create(test_bytes("plugin_exit"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "unknown import: `wasi_snapshot_preview1::proc_exit` has not been defined (WASI is not "
            "enabled)");
}

TEST(Plugin, UnknownKernelImportIsRefusedNamingIt) {
  auto p = Plugin::create(test_bytes("plugin_bad_import"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "unknown import: `extism:host/env::steal_secrets` is not an Extism kernel function");
  auto q = Plugin::create(test_bytes("plugin_env_memory"));
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message,
            "unknown import: `extism:host/env::memory`: extism:host/env exports only functions");
}

TEST(Plugin, InvalidWasmIsRefusedWithTheDecodeError) {
  const std::vector<uint8_t> junk = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0xff};
  auto p = Plugin::create(junk);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().message.starts_with("invalid wasm module: ")) << p.error().message;
}

// ---- host functions ----

TEST(Plugin, HostFunctionReadsAHandleAndReturnsANewOne) {
  PluginOptions options;
  int calls = 0;
  options.functions.push_back(
      PluginFunction{.name = "reverse",
                     .type = FuncType{{ValType::I64}, {ValType::I64}},
                     .callback = [&calls](CurrentPlugin& plugin, std::span<const Value> args,
                                          std::span<Value> results) -> HostResult {
                       ++calls;
                       if (*static_cast<int*>(plugin.user_data()) != 7)
                         return CurrentPlugin::fail("wrong user data");
                       std::string text(plugin.text(args[0].bits));
                       if (text == "fail") return CurrentPlugin::fail("the host refused: fail");
                       std::reverse(text.begin(), text.end());
                       results[0] = Value::i64(static_cast<int64_t>(plugin.alloc_copy(text)));
                       return {};
                     },
                     .user_data = std::make_shared<int>(7)});
  auto p = make(test_bytes("plugin_host_fn"), options);
  EXPECT_EQ(ok(*p, "run", "warden"), "nedraw");
  auto e = err(*p, "run", "fail");
  EXPECT_EQ(e.message, "the host refused: fail");
  EXPECT_EQ(e.rc, -1);
  EXPECT_EQ(calls, 2);
}

TEST(Plugin, MissingHostFunctionIsRefusedAtCreation) {
  auto p = Plugin::create(test_bytes("plugin_host_fn"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "unknown import: `extism:host/user::reverse` has not been defined");
}

// ---- manifests ----

TEST(Manifest, DefaultsAndEveryField) {
  auto m = parse_manifest(R"({"wasm":[{"path":"a.wasm"}]})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->max_pages);
  EXPECT_EQ(m->max_http_response_bytes, 50u << 20);
  EXPECT_EQ(m->max_var_bytes, 1u << 20);
  EXPECT_FALSE(m->allowed_hosts);
  EXPECT_TRUE(m->allowed_paths.empty());
  EXPECT_FALSE(m->timeout_ms);
  auto full = parse_manifest(
      R"({"wasm":[{"data":"AGFzbQEAAAA=","name":"lib"},{"url":"http://x/y.wasm","headers":{"a":"b"},"method":"POST"}],
    "memory":{"max_pages":17,"max_http_response_bytes":100,"max_var_bytes":0},
    "config":{"k":"v"},"allowed_hosts":["*.example.com"],"allowed_paths":{"ro:/tmp":"/data"},"timeout_ms":250})");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->wasm[0].data, (std::vector<uint8_t>{0, 'a', 's', 'm', 1, 0, 0, 0}));
  EXPECT_EQ(full->wasm[0].module_name(), "lib");
  EXPECT_EQ(full->wasm[1].url, "http://x/y.wasm");
  EXPECT_EQ(full->wasm[1].method, "POST");
  EXPECT_EQ(*full->max_pages, 17u);
  EXPECT_EQ(full->max_http_response_bytes, 100u);
  EXPECT_EQ(full->max_var_bytes, 0u);
  EXPECT_EQ(full->config.at("k"), "v");
  EXPECT_EQ(full->allowed_hosts->at(0), "*.example.com");
  EXPECT_EQ(full->allowed_paths.at(0), (std::pair<std::string, std::string>{"ro:/tmp", "/data"}));
  EXPECT_EQ(*full->timeout_ms, 250u);
}

TEST(Manifest, UnknownFieldsAndBadTypesAreRefused) {
  auto e1 = parse_manifest(R"({"wasm":[{"path":"a"}],"memroy":{}})");
  ASSERT_FALSE(e1);
  EXPECT_EQ(
      e1.error().message,
      "manifest: unknown field \"memroy\" in the top-level object (expected one of: wasm, memory, "
      "config, allowed_hosts, allowed_paths, timeout_ms)");
  auto e2 = parse_manifest(R"({"wasm":[{"path":"a","sha":"x"}]})");
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message,
            "manifest: unknown field \"sha\" in wasm[0] (expected one of: path, name, hash)");
  EXPECT_EQ(parse_manifest(R"({"wasm":[]})").error().message,
            "manifest: \"wasm\" must be a non-empty array of sources");
  EXPECT_EQ(parse_manifest(R"({"wasm":[{"path":"a"}],"memory":{"max_pages":-1}})").error().message,
            "manifest: memory.max_pages must be a non-negative integer or null");
  EXPECT_EQ(parse_manifest(R"({"wasm":[{"data":"!!"}]})").error().message,
            "manifest: wasm[0].data is not valid base64");
  EXPECT_EQ(parse_manifest(R"({"wasm":[{"path":"a","hash":"ABC"}]})").error().message,
            "manifest: wasm[0].hash must be 64 lower-case hex digits (SHA-256)");
  EXPECT_TRUE(parse_manifest("{").error().message.starts_with("manifest: not valid JSON: "));
}

TEST(Manifest, HashIsCheckedOnTheExactBytes) {
  const auto bytes = plugin_bytes("errors");
  const std::string right = sha256_hex(bytes);
  // Known vector: SHA-256 of the empty string.
  EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Manifest m = manifest_of(bytes);
  m.wasm[0].hash = right;
  EXPECT_TRUE(Plugin::create(m));
  const std::string wrong(64, '0');
  m.wasm[0].hash = wrong;
  auto p = Plugin::create(m);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "Hash mismatch, found " + right + " but expected " + wrong);
}

TEST(Manifest, ModulesLinkByNameAndMainIsNamedMainOrLast) {
  Manifest m;
  m.wasm.push_back(source(test_bytes("plugin_linked_main")));
  m.wasm.push_back(source(test_bytes("plugin_linked_lib"), "lib"));
  auto p = make(m);  // main (unnamed = "main") is first here, not last
  auto e = err(*p, "run");
  EXPECT_EQ(e.message, "Returned non-zero exit code: 42");
  EXPECT_EQ(e.rc, 42);
  // Without a module named "main", the last one is main.
  Manifest last;
  last.wasm.push_back(source(test_bytes("plugin_linked_lib"), "lib"));
  last.wasm.push_back(source(test_bytes("plugin_linked_main"), "app"));
  auto q = make(last);
  EXPECT_EQ(err(*q, "run").rc, 42);
}

TEST(Manifest, PathSourceAndMissingFile) {
  Manifest m;
  m.wasm.push_back(source_at(WasmSource::Kind::Path, std::string(WARDEN_PLUGINS) + "/errors.wasm"));
  auto p = make(m);
  EXPECT_EQ(ok(*p, "void_ok"), "void function ran");
  m.wasm[0].path = "/no/such/plugin.wasm";
  auto q = Plugin::create(m);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message,
            "cannot read wasm file /no/such/plugin.wasm: No such file or directory");
}

// A reactor linked by name runs its _initialize once, before the main module's init.
TEST(Manifest, LinkedReactorsAreInitialisedOnceBeforeTheMainModule) {
  Manifest m;
  m.wasm.push_back(source(test_bytes("plugin_reactor_side"), "side"));
  m.wasm.push_back(source(test_bytes("plugin_reactor_main")));
  auto p = make(m);
  for (int call = 0; call < 2; ++call) {
    const PluginError e = err(*p, "run");
    EXPECT_EQ(e.message, "Returned non-zero exit code: 11");
  }
  Manifest trap;
  trap.wasm.push_back(source(test_bytes("plugin_reactor_trap"), "side"));
  trap.wasm.push_back(source(test_bytes("plugin_reactor_main")));
  auto q = make(trap);
  const PluginError e = err(*q, "run");
  EXPECT_EQ(e.message, "failed to initialize linked module \"side\": trap: unreachable");
  EXPECT_EQ(e.rc, -1);
}

TEST(Manifest, UrlSourceIsFetchedFromAnAllowedSourceOnly) {
  testing::HttpTestServer server;
  Manifest m;
  m.wasm.push_back(source_at(WasmSource::Kind::Url, server.url("/plugin.wasm")));
  // Deny by default: no request is made.
  auto denied = Plugin::create(m);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message,
            "cannot fetch " + server.url("/plugin.wasm") +
                ": no source hosts are allowed (PluginOptions::allowed_sources)");
  PluginOptions options;
  options.allowed_sources = {"127.0.0.1"};
  // The server has no wasm route: a 404 is refused with the status.
  auto p = Plugin::create(m, options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "cannot fetch " + server.url("/plugin.wasm") + ": HTTP status 404");
  // Served: fetched, hash-checked and run.
  const auto bytes = plugin_bytes("errors");
  server.serve("/plugin.wasm", std::string(bytes.begin(), bytes.end()));
  m.wasm[0].hash = sha256_hex(bytes);
  auto q = make(m, options);
  EXPECT_EQ(ok(*q, "void_ok"), "void function ran");
  // Another host, directly or through a redirect from an allowed one, is refused.
  PluginOptions elsewhere;
  elsewhere.allowed_sources = {"plugins.example.com"};
  auto r = Plugin::create(m, elsewhere);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cannot fetch " + server.url("/plugin.wasm") + ": the host is not an allowed source");
  m.wasm[0].url =
      server.url("/redirect?to=http://localhost:" + std::to_string(server.port()) + "/plugin.wasm");
  auto s = Plugin::create(m, options);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(": the host is not an allowed source"), std::string::npos)
      << s.error().message;
}

// A server that accepts and never answers (here: for 5 s) must not block creation: the fetch
// honours the creation's timeout, and a cancel.
TEST(Manifest, UrlSourceFetchHonoursTheCreationTimeoutAndACancel) {
  testing::HttpTestServer server;
  Manifest m;
  m.wasm.push_back(source_at(WasmSource::Kind::Url, server.url("/slow")));
  PluginOptions options;
  options.allowed_sources = {"127.0.0.1"};
  options.create_timeout = std::chrono::milliseconds(100);
  auto p = Plugin::create(m, options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "cannot fetch " + server.url("/slow") + ": timeout");
}

TEST(Manifest, UrlSourceFetchStopsOnACancel) {
  testing::HttpTestServer server;
  Manifest m;
  m.wasm.push_back(source_at(WasmSource::Kind::Url, server.url("/slow")));
  PluginOptions options;
  options.allowed_sources = {"127.0.0.1"};
  auto start =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  options.create_cancelled = [start] {
    return std::chrono::steady_clock::now() - *start > std::chrono::milliseconds(100);
  };
  auto p = Plugin::create(m, options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "cannot fetch " + server.url("/slow") + ": timeout");
}

TEST(Plugin, CompiledModulesAreSharedBetweenPluginsFromTheSameBytes) {
  const auto bytes = plugin_bytes("count_vowels");
  auto a = make(bytes);
  auto b = make(bytes);
  EXPECT_EQ(a->main_module(), b->main_module());
  PluginOptions metered;
  metered.quota.fuel_per_call = 1000000;
  auto c = make(bytes, metered);  // a different engine: compiled separately
  EXPECT_NE(a->main_module(), c->main_module());
}

// Host applications create and call plugins on many threads: plugins from the same bytes share
// one compiled module whose functions are compiled lazily, by whichever thread calls first.
TEST(Plugin, PluginsOnManyThreadsShareOneCompiledModule) {
  const auto bytes = plugin_bytes("count_vowels");
  auto keep = make(bytes);  // keeps the shared module alive while the threads come and go
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  std::vector<const CompiledModule*> modules(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto p = Plugin::create(bytes);
        if (!p) {
          ++wrong;
          continue;
        }
        modules[t] = (*p)->main_module();
        auto out = (*p)->call("count_vowels", "aei");
        if (!out || *out != R"({"count":3,"total":3,"vowels":"aeiouAEIOU"})") ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
  for (const CompiledModule* m : modules) EXPECT_EQ(m, keep->main_module());
}

// ---- limits ----

// A call of the hostile plugin fails with exactly `message` and `rc`, and the next call works.
void expect_stopped_then_recovers(Plugin& p, std::string_view function, const std::string& message,
                                  int32_t rc) {
  auto e = err(p, function);
  EXPECT_EQ(e.message, message) << function;
  EXPECT_EQ(e.rc, rc) << function;
  EXPECT_EQ(ok(p, "echo", "next call"), "next call") << "after " << function;
}

TEST(Limits, FuelRunsOutAndIsResetEveryCall) {
  PluginOptions options;
  options.quota.fuel_per_call = 2'000'000;
  auto p = make(plugin_bytes("hostile"), options);
  auto e = err(*p, "infinite_loop");
  EXPECT_EQ(e.message, "plugin ran out of fuel");
  EXPECT_EQ(e.rc, -1);
  EXPECT_EQ(p->fuel_used(), 2'000'000u);
  EXPECT_EQ(ok(*p, "echo", "still works"), "still works");
  EXPECT_GT(p->fuel_used(), 0u);
  EXPECT_LT(p->fuel_used(), 1000u);
}

TEST(Limits, HostCallsCostFuel) {
  PluginOptions options;
  options.quota.fuel_per_call = 10'000'000;
  auto p = make(plugin_bytes("hostile"), options);
  ok(*p, "echo", "x");
  const uint64_t echo = p->fuel_used();
  ok(*p, "forge");
  // forge makes 17 kernel calls and almost nothing else: at least their table costs.
  EXPECT_GE(p->fuel_used(), 17u);
  EXPECT_GT(p->fuel_used(), echo);
}

TEST(Limits, TimeoutEndsAnInfiniteLoopAndTheNextCallWorks) {
  Manifest m = manifest_of(plugin_bytes("hostile"));
  m.timeout_ms = 100;
  auto p = make(m);
  expect_stopped_then_recovers(*p, "infinite_loop", "timeout", -1);
}

TEST(Limits, TimeoutCoversTimeSpentInAHostFunction) {
  PluginOptions options;
  std::atomic<int> calls{0};
  options.functions.push_back(PluginFunction{
      .name = "slow",
      .type = FuncType{{}, {}},
      .callback = [&calls](CurrentPlugin&, std::span<const Value>, std::span<Value>) -> HostResult {
        // Only the first call outlives the deadline.
        if (calls++ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return {};
      }});
  Manifest m = manifest_of(test_bytes("plugin_host_sleep"));
  m.timeout_ms = 50;
  auto p = make(m, options);
  auto e = err(*p, "run");
  EXPECT_EQ(e.message, "timeout");
  EXPECT_EQ(e.rc, -1);
  EXPECT_EQ(ok(*p, "run"), "");
  EXPECT_EQ(calls, 2);
}

TEST(Limits, CancelFromAnotherThread) {
  auto p = make(plugin_bytes("hostile"));
  CancelHandle cancel = p->cancel_handle();
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cancel.cancel();
    }
  });
  auto e = err(*p, "infinite_loop");
  done = true;
  canceller.join();
  EXPECT_EQ(e.message, "timeout");
  // A cancel that arrived while idle does not leak into the next call.
  cancel.cancel();
  EXPECT_EQ(ok(*p, "echo", "fine"), "fine");
}

TEST(Limits, UnboundedRecursionTrapsAndThePluginRecovers) {
  auto p = make(plugin_bytes("hostile"));
  expect_stopped_then_recovers(*p, "recurse", "trap: call stack exhausted", 134);
}

TEST(Limits, MemoryGrowthOverTheBudgetIsOom) {
  Manifest m = manifest_of(plugin_bytes("hostile"));
  m.max_pages = 100;
  auto p = make(m);
  expect_stopped_then_recovers(*p, "memory_bomb", "oom", -1);
}

TEST(Limits, BudgetIsSharedByPluginMemoryAndKernelRegionOverTheInstanceLifetime) {
  Manifest m = manifest_of(test_bytes("plugin_lifecycle"));
  m.max_pages = 5;
  auto p = make(m);
  // The input's length is the number of pages to grow. 1 kernel page holds the input.
  EXPECT_EQ(ok(*p, "grow", "xxx"), "ok");           // 1 (kernel) + 3 = 4 of 5
  EXPECT_EQ(err(*p, "grow", "xx").message, "oom");  // 4 + 2 > 5
  EXPECT_EQ(ok(*p, "grow", "x"), "ok");             // 4 + 1 = 5
  EXPECT_EQ(err(*p, "grow", "x").message, "oom");
}

TEST(Limits, InputLargerThanTheBudgetIsOom) {
  Manifest m = manifest_of(plugin_bytes("count_vowels"));
  m.max_pages = 2;
  auto p = make(m);
  EXPECT_EQ(err(*p, "count_vowels", std::string(200000, 'a')).message, "oom");
  EXPECT_EQ(ok(*p, "count_vowels", "a"), R"({"count":1,"total":1,"vowels":"aeiouAEIOU"})");
}

TEST(Limits, KernelAllocationWithoutBoundIsOom) {
  Manifest m = manifest_of(plugin_bytes("hostile"));
  m.max_pages = 64;
  auto p = make(m);
  expect_stopped_then_recovers(*p, "alloc_bomb", "oom", -1);
}

TEST(Limits, ForgedFreedAndOutOfRangeHandlesReadZeroAndWriteNowhere) {
  auto p = make(plugin_bytes("hostile"));
  EXPECT_EQ(ok(*p, "forge", "input"), "seen=0000000000000000");
  auto e = err(*p, "bad_output");
  EXPECT_EQ(e.message, "output_set: bytes out of bounds of the kernel region");
  EXPECT_EQ(ok(*p, "echo", "ok"), "ok");
}

TEST(Limits, VariableStoreCountsKeyValueAnd48BytesPerEntry) {
  Manifest m = manifest_of(plugin_bytes("hostile"));
  m.max_var_bytes = 3 + 49 + 48;  // key "big" + 49-byte value + overhead = 100
  auto p = make(m);
  EXPECT_EQ(ok(*p, "store_var", std::string(49, 'v')), "stored");
  EXPECT_EQ(ok(*p, "store_var", std::string(49, 'w')), "stored");  // replacing frees the old entry
  auto e = err(*p, "store_var", std::string(50, 'v'));
  EXPECT_EQ(e.message, "Variable store is full");
  EXPECT_EQ(e.rc, -1);
  EXPECT_EQ(p->vars().at("big"), std::string(49, 'w'));
  m.max_var_bytes = 0;
  auto q = make(m);
  EXPECT_EQ(err(*q, "store_var", "x").message, "Vars are disabled by this host");
}

TEST(Limits, LogMessagesAreEscapedAndCappedPerCall) {
  PluginOptions options;
  options.log_level = LogLevel::Info;
  options.quota.max_log_bytes_per_call = 10000;
  std::vector<std::pair<LogLevel, std::string>> lines;
  options.log_sink = [&](LogLevel level, std::string_view message) {
    lines.emplace_back(level, message);
  };
  auto p = make(plugin_bytes("hostile"), options);
  EXPECT_EQ(ok(*p, "log_spam"), "done");
  // 29-byte messages: 344 fit in 10000 bytes, then one notice.
  ASSERT_EQ(lines.size(), 345u);
  EXPECT_EQ(lines[0].second, "spam \\x1b[31mred\\x1b[0m\\nforged line");
  EXPECT_EQ(lines.back().first, LogLevel::Warn);
  EXPECT_EQ(lines.back().second,
            "plugin log output over 10000 bytes in this call; further messages dropped");
  lines.clear();
  EXPECT_EQ(ok(*p, "log_spam"), "done");  // the cap is per call
  EXPECT_EQ(lines.size(), 345u);
}

TEST(Limits, LogLevelFilters) {
  EXPECT_EQ(sanitize_log_message("ok \xc3\xa9 \xff", 100), "ok \xc3\xa9 \\xff");
  EXPECT_EQ(sanitize_log_message(std::string(10, 'a'), 4), "aaaa [truncated]");
  EXPECT_EQ(sanitize_log_message("\xe2\x80\xae", 10), "\\xe2\\x80\\xae");  // bidi override
  PluginOptions options;
  options.log_level = LogLevel::Error;
  int lines = 0;
  options.log_sink = [&](LogLevel, std::string_view) { ++lines; };
  auto p = make(plugin_bytes("hostile"), options);
  EXPECT_EQ(ok(*p, "log_spam"), "done");
  EXPECT_EQ(lines, 0);  // info messages are below error
}

// ---- HTTP ----

struct Http : ::testing::Test {
  testing::HttpTestServer server;
  std::unique_ptr<Plugin> plugin(std::optional<std::vector<std::string>> hosts,
                                 uint64_t max_bytes = 50 << 20,
                                 std::optional<uint64_t> timeout = std::nullopt,
                                 bool headers = false) {
    Manifest m = manifest_of(plugin_bytes("http_fetcher"));
    m.allowed_hosts = std::move(hosts);
    m.max_http_response_bytes = max_bytes;
    m.timeout_ms = timeout;
    PluginOptions options;
    options.http_response_headers = headers;
    return make(m, options);
  }
};

TEST_F(Http, AllowedHostGetsTheResponse) {
  auto p = plugin(std::vector<std::string>{"127.0.0.*"});
  EXPECT_EQ(ok(*p, "fetch", server.url("/hello")), "200\nhello from the test server");
  EXPECT_EQ(ok(*p, "fetch", server.url("/status/404")), "404\nstatus 404");  // not an error
  EXPECT_EQ(ok(*p, "post", server.url("/echo")), "200\nPOST\nposted body");
}

TEST_F(Http, NoAllowedHostsDeniesEverything) {
  for (auto hosts : {std::optional<std::vector<std::string>>{},
                     std::optional<std::vector<std::string>>{std::vector<std::string>{}},
                     std::optional<std::vector<std::string>>{
                         std::vector<std::string>{"example.com", "127.0.0.2"}}}) {
    auto p = plugin(hosts);
    auto e = err(*p, "fetch", server.url("/hello"));
    EXPECT_EQ(e.message, "HTTP request to " + server.url("/hello") + " is not allowed");
    EXPECT_EQ(e.rc, -1);
    EXPECT_EQ(ok(*p, "ping"), "pong");  // the plugin still works
  }
}

TEST_F(Http, RedirectsAreFollowedOnlyToAllowedHosts) {
  auto p = plugin(std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(ok(*p, "fetch", server.url("/redirect?to=" + server.url("/hello"))),
            "200\nhello from the test server");
  const std::string outside = "http://localhost:" + std::to_string(server.port()) + "/hello";
  auto e = err(*p, "fetch", server.url("/redirect?to=" + outside));
  EXPECT_EQ(e.message, "HTTP request to " + outside + " is not allowed");
}

TEST_F(Http, ResponseOverTheCapFailsWhileStreaming) {
  auto p = plugin(std::vector<std::string>{"127.0.0.1"}, 100000);
  EXPECT_EQ(ok(*p, "fetch", server.url("/big/100000")), "200\n" + std::string(100000, 'x'));
  auto e = err(*p, "fetch", server.url("/big/100001"));
  EXPECT_EQ(e.message, "HTTP response body exceeds max_http_response_bytes (100000 bytes)");
  EXPECT_EQ(ok(*p, "fetch", server.url("/hello")), "200\nhello from the test server");
}

TEST_F(Http, TimeoutCoversTimeInTheRequest) {
  auto p = plugin(std::vector<std::string>{"127.0.0.1"}, 50 << 20, 300);
  const auto start = std::chrono::steady_clock::now();
  auto e = err(*p, "fetch", server.url("/slow"));
  EXPECT_EQ(e.message, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));  // not the 5 s wait
}

TEST_F(Http, HeadersOnlyWhenEnabled) {
  auto off = plugin(std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(ok(*off, "headers", server.url("/hello")), "");
  auto on = plugin(std::vector<std::string>{"127.0.0.1"}, 50 << 20, std::nullopt, true);
  EXPECT_EQ(ok(*on, "headers", server.url("/hello")),
            R"({"connection":"close","content-length":"26","x-test":"yes"})");
}

TEST(HostGlob, MatchesHostNamesOnly) {
  EXPECT_TRUE(host_matches("*.example.com", "api.example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "example.com"));
  EXPECT_TRUE(host_matches("api?.example.com", "API1.example.com"));
  EXPECT_TRUE(host_matches("[ab]pi.example.com", "bpi.example.com"));
  EXPECT_FALSE(host_matches("[!ab]pi.example.com", "api.example.com"));
  EXPECT_EQ(url_host("https://user:pw@Api.Example.com:8443/x?y"), "api.example.com");
  EXPECT_EQ(url_host("http://[::1]:80/"), "::1");
  EXPECT_FALSE(url_host("not a url"));
}

}  // namespace
}  // namespace warden::extism
