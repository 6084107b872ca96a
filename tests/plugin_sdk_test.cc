// The C++ SDK beyond a call: error kinds, per-call host context and timeout, host-side vars,
// reset, compiled plugins, WASI writers and environment.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include "hostabi/plugin.h"
#include "test_guest.h"

namespace warden::extism {
namespace {

std::vector<uint8_t> plugin_bytes(const std::string& name) {
  return test::example_plugin_bytes(name);
}
std::vector<uint8_t> test_bytes(const std::string& name) { return test::guest_bytes(name); }
Manifest manifest_of(std::vector<uint8_t> wasm) {
  Manifest m;
  WasmSource s;
  s.data = std::move(wasm);
  m.wasm.push_back(std::move(s));
  return m;
}

// greeter's host function: "<" + text + ">", and the host context's text after it when given.
PluginFunction decorate(int* calls = nullptr) {
  PluginFunction f;
  f.name = "decorate";
  f.type = FuncType{{ValType::I64}, {ValType::I64}};
  f.callback = [calls](CurrentPlugin& p, std::span<const Value> args,
                       std::span<Value> results) -> HostResult {
    if (calls) ++*calls;
    std::string text = "<" + std::string(p.text(static_cast<uint64_t>(args[0].as_i64()))) + ">";
    if (auto* context = static_cast<const std::string*>(p.host_context())) text += *context;
    results[0] = Value::i64(static_cast<int64_t>(p.alloc_copy(text)));
    return {};
  };
  return f;
}
PluginOptions greeter_options(int* calls = nullptr) {
  PluginOptions o;
  o.functions.push_back(decorate(calls));
  return o;
}
std::unique_ptr<Plugin> greeter(PluginOptions options = greeter_options()) {
  auto p = Plugin::create(plugin_bytes("greeter"), std::move(options));
  EXPECT_TRUE(p) << p.error().message;
  return p ? std::move(*p) : nullptr;
}

std::string ok(Plugin& p, std::string_view function, std::string_view input = "",
               const CallOptions& options = {}) {
  auto r = p.call(function, input, options);
  EXPECT_TRUE(r) << function << ": " << r.error().message;
  return r ? std::string(*r) : std::string();
}
PluginError err(Plugin& p, std::string_view function, std::string_view input = "",
                const CallOptions& options = {}) {
  auto r = p.call(function, input, options);
  EXPECT_FALSE(r) << function << " succeeded";
  return r ? PluginError{ErrorKind::HostError, "<no error>", 0} : r.error();
}
PluginError create_error(const Manifest& m, PluginOptions options = {}) {
  auto p = Plugin::create(m, std::move(options));
  EXPECT_FALSE(p);
  return p ? PluginError{ErrorKind::HostError, "<created>", 0} : p.error();
}

// ---- error kinds: every kind, from a real failure ----

TEST(ErrorKinds, EveryCallFailureHasItsKind) {
  auto p = greeter();
  PluginError e = err(*p, "missing");
  EXPECT_EQ(e.kind, ErrorKind::FunctionNotFound);
  EXPECT_EQ(e.message, "Function not found: missing");
  e = err(*p, "fail", "bad input");
  EXPECT_EQ(e.kind, ErrorKind::PluginError);
  EXPECT_EQ(e.message, "bad input");
  EXPECT_EQ(e.rc, 1);
  e = err(*p, "trap");
  EXPECT_EQ(e.kind, ErrorKind::Trap);
  EXPECT_EQ(e.rc, 134);

  auto errors = Plugin::create(plugin_bytes("errors"));
  ASSERT_TRUE(errors);
  e = err(**errors, "nonzero");
  EXPECT_EQ(e.kind, ErrorKind::PluginError);
  EXPECT_EQ(e.message, "Returned non-zero exit code: 7");
  e = err(**errors, "fail_then_trap");  // an error set, then a trap: the plugin's error
  EXPECT_EQ(e.kind, ErrorKind::PluginError);
  EXPECT_EQ(e.rc, -1);
}

TEST(ErrorKinds, FuelTimeoutCancelOomExitDenied) {
  PluginOptions metered = greeter_options();
  metered.quota.fuel_per_call = 100000;
  auto p = greeter(std::move(metered));
  PluginError e = err(*p, "spin");
  EXPECT_EQ(e.kind, ErrorKind::OutOfFuel);
  EXPECT_EQ(e.message, "plugin ran out of fuel");

  auto q = greeter();
  e = err(*q, "spin", "", CallOptions{nullptr, std::chrono::milliseconds(30)});
  EXPECT_EQ(e.kind, ErrorKind::Timeout);
  EXPECT_EQ(e.message, "timeout");

  // Cancelled until the call has ended (a cancel before it starts is forgotten).
  std::atomic<bool> done{false};
  std::thread canceller([handle = q->cancel_handle(), &done] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      handle.cancel();
    }
  });
  e = err(*q, "spin");
  done = true;
  canceller.join();
  EXPECT_EQ(e.kind, ErrorKind::Cancelled);
  EXPECT_EQ(e.message, "timeout");                 // the reference's text for both
  EXPECT_EQ(ok(*q, "greet", "x"), "Hello, <x>!");  // a timeout is not left behind

  Manifest m = manifest_of(plugin_bytes("count_vowels"));
  m.max_pages = 2;
  PluginOptions wasi;
  wasi.wasi = true;
  auto small = Plugin::create(m, wasi);
  ASSERT_TRUE(small);
  e = err(**small, "count_vowels", std::string(200000, 'a'));
  EXPECT_EQ(e.kind, ErrorKind::Oom);
  EXPECT_EQ(e.message, "oom");

  auto exits = Plugin::create(test_bytes("plugin_exit"), wasi);
  ASSERT_TRUE(exits);
  e = err(**exits, "exit", "abcd");
  EXPECT_EQ(e.kind, ErrorKind::ExitCode);
  EXPECT_EQ(e.rc, 4);

  auto http = Plugin::create(plugin_bytes("http_fetcher"));
  ASSERT_TRUE(http);
  e = err(**http, "fetch", "http://127.0.0.1:9/x");
  EXPECT_EQ(e.kind, ErrorKind::Denied);
  EXPECT_EQ(e.message.rfind("HTTP request to http://127.0.0.1:9/x is not allowed", 0), 0u)
      << e.message;

  // A quota's refusal (max_output_bytes) says "policy:" and is Denied too.
  PluginOptions capped = greeter_options();
  capped.quota.max_output_bytes = 4;
  auto c = greeter(std::move(capped));
  e = err(*c, "greet", "long enough");
  EXPECT_EQ(e.kind, ErrorKind::Denied);
  EXPECT_EQ(e.message.rfind("policy: ", 0), 0u);
}

TEST(ErrorKinds, CreationFailuresHaveTheirKinds) {
  Manifest garbage = manifest_of({0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0xff});
  PluginError e = create_error(garbage);
  EXPECT_EQ(e.kind, ErrorKind::InvalidModule);

  e = create_error(manifest_of(plugin_bytes("greeter")));  // decorate is not provided
  EXPECT_EQ(e.kind, ErrorKind::InvalidModule);
  EXPECT_NE(e.message.find("decorate"), std::string::npos);

  Manifest missing;
  WasmSource s;
  s.kind = WasmSource::Kind::Path;
  s.path = "/nonexistent/plugin.wasm";
  missing.wasm.push_back(s);
  e = create_error(missing);
  EXPECT_EQ(e.kind, ErrorKind::InvalidManifest);

  Manifest hashed = manifest_of(plugin_bytes("errors"));
  hashed.wasm[0].hash = std::string(64, '0');
  e = create_error(hashed);
  EXPECT_EQ(e.kind, ErrorKind::InvalidManifest);
  EXPECT_EQ(e.message.rfind("Hash mismatch", 0), 0u);

  // Grants without the capability: denied at link.
  PluginOptions denied = greeter_options();
  denied.grants = Grants{};
  denied.grants->capabilities.emplace();  // nothing granted
  e = create_error(manifest_of(plugin_bytes("greeter")), denied);
  EXPECT_EQ(e.kind, ErrorKind::Denied);

  EXPECT_EQ(error_kind_name(ErrorKind::OutOfFuel), "out_of_fuel");
  EXPECT_EQ(error_kind_name(ErrorKind::InvalidManifest), "invalid_manifest");
}

// ---- host context, vars, reset ----

TEST(Sdk, HostContextReachesHostFunctionsForThatCallOnly) {
  int calls = 0;
  auto p = greeter(greeter_options(&calls));
  const std::string context = " (ctx)";
  EXPECT_EQ(ok(*p, "greet", "a", CallOptions{const_cast<std::string*>(&context), {}}),
            "Hello, <a> (ctx)!");
  EXPECT_EQ(ok(*p, "greet", "a"), "Hello, <a>!");
  EXPECT_EQ(calls, 2);
}

TEST(Sdk, HostReadsAndWritesVarsBeforeAndBetweenCalls) {
  auto p = greeter();
  ASSERT_TRUE(p->set_var("count", "41"));  // before the first call: carried into the instance
  EXPECT_EQ(ok(*p, "count"), "42");
  EXPECT_EQ(p->var("count"), "42");
  ASSERT_TRUE(p->set_var("count", "9"));
  EXPECT_EQ(ok(*p, "count"), "10");
  p->remove_var("count");
  EXPECT_FALSE(p->var("count"));
  EXPECT_EQ(ok(*p, "count"), "1");

  // The host's writes count against max_var_bytes like the plugin's.
  PluginOptions tight = greeter_options();
  tight.quota.max_var_bytes = 100;
  auto q = greeter(std::move(tight));
  auto refused = q->set_var("k", std::string(60, 'v'));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Denied);
  EXPECT_EQ(refused.error().message, "Variable store is full");
  EXPECT_TRUE(q->set_var("k", std::string(40, 'v')));
  PluginOptions off = greeter_options();
  off.quota.max_var_bytes = 0;
  auto r = greeter(std::move(off));
  EXPECT_EQ(r->set_var("k", "v").error().message, "Vars are disabled by this host");
}

TEST(Sdk, ResetFreesTheKernelRegionAndKeepsVarsAndConfig) {
  auto p = greeter();
  p->merge_config({{"greeting", std::string("Hey")}});
  EXPECT_EQ(ok(*p, "count"), "1");
  EXPECT_EQ(ok(*p, "greet", "x"), "Hey, <x>!");
  ASSERT_TRUE(p->reset());
  EXPECT_EQ(ok(*p, "count"), "2");
  EXPECT_EQ(ok(*p, "greet", "x"), "Hey, <x>!");
  p->merge_config({{"greeting", std::nullopt}});
  EXPECT_EQ(ok(*p, "greet", "x"), "Hello, <x>!");
  auto fresh = greeter();
  EXPECT_TRUE(fresh->reset());  // before any instance: nothing to free
}

TEST(Sdk, PerCallTimeoutNarrowsButNeverWidensTheQuota) {
  PluginOptions o = greeter_options();
  o.quota.timeout = std::chrono::milliseconds(30);
  auto p = greeter(std::move(o));
  // A longer per-call timeout does not widen the quota's 30 ms: the spin still ends.
  PluginError e = err(*p, "spin", "", CallOptions{nullptr, std::chrono::hours(1)});
  EXPECT_EQ(e.kind, ErrorKind::Timeout);
}

// ---- compiled plugins ----

TEST(Sdk, CompiledPluginMakesIndependentPluginsWithoutCompilingAgain) {
  int calls = 0;
  auto compiled = CompiledPlugin::create(plugin_bytes("greeter"), greeter_options(&calls));
  ASSERT_TRUE(compiled) << compiled.error().message;
  auto a = (*compiled)->instantiate();
  auto b = (*compiled)->instantiate();
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)->main_module(), (*b)->main_module());  // one compiled module
  EXPECT_EQ((*a)->main_module(), (*compiled)->prototype().main_module());
  EXPECT_EQ(ok(**a, "count"), "1");
  EXPECT_EQ(ok(**a, "count"), "2");
  EXPECT_EQ(ok(**b, "count"), "1");
  compiled->reset();  // the plugins outlive it
  EXPECT_EQ(ok(**b, "greet", "b"), "Hello, <b>!");
  EXPECT_EQ(calls, 1);

  auto bad = CompiledPlugin::create(plugin_bytes("greeter"));  // no host function
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidModule);
}

// ---- WASI writers and environment ----

TEST(Sdk, WasiWritersAndEnvironmentFromTheOptions) {
  std::string out, errs;
  PluginOptions o;
  o.wasi = true;
  o.wasi_stdout = [&](std::string_view s) { out.append(s); };
  o.wasi_stderr = [&](std::string_view s) { errs.append(s); };
  o.wasi_env = {"A=1", "B=two"};
  auto p = Plugin::create(test_bytes("plugin_wasi_io"), o);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(ok(**p, "print", "to stdout"), "");
  EXPECT_EQ(out, "to stdout");
  EXPECT_EQ(errs, "!");
  EXPECT_EQ(ok(**p, "env"), std::string("A=1\0B=two\0", 10));

  PluginOptions none;
  none.wasi = true;
  auto q = Plugin::create(test_bytes("plugin_wasi_io"), none);
  ASSERT_TRUE(q);
  EXPECT_EQ(ok(**q, "env"), "");  // the host's environment is never passed through
}

}  // namespace
}  // namespace warden::extism

namespace warden::extism {
namespace {

// ---- reflection ----

TEST(Sdk, ModuleInterfaceListsImportsAndExportsInModuleOrderWithTypes) {
  Engine engine;
  auto compiled = CompiledModule::compile(engine, test_bytes("reflect"));
  ASSERT_TRUE(compiled);
  std::vector<std::string> imports, exports;
  for (const ExternDescription& d : (*compiled)->imports())
    imports.push_back(d.module + " " + d.name + ": " + d.type_text());
  for (const ExternDescription& d : (*compiled)->exports())
    exports.push_back(d.name + ": " + d.type_text());
  EXPECT_EQ(imports,
            (std::vector<std::string>{"env zeta: func (i32, i64) -> (f32)", "env mem: memory 1..16",
                                      "host alpha: func () -> ()", "env counter: global mut i64",
                                      "env tab: table funcref 2.."}));
  EXPECT_EQ(exports,
            (std::vector<std::string>{"run: func (f64) -> (i32, i32)", "memory: memory 1..16",
                                      "a_global: global f64", "table: table funcref 2..",
                                      "zeta_again: func (i32, i64) -> (f32)"}));
  // A plugin's interface is its main module's.
  auto p = greeter();
  bool greet = false;
  for (const ExternDescription& d : p->main_module()->exports())
    greet |= d.name == "greet" && d.kind == ExternKind::Func && d.func.results.size() == 1;
  EXPECT_TRUE(greet);
  const auto greeter_imports = p->main_module()->imports();
  bool decorate_import = false;
  for (const ExternDescription& d : greeter_imports)
    decorate_import |= d.module == "extism:host/user" && d.name == "decorate" &&
                       d.type_text() == "func (i64) -> (i64)";
  EXPECT_TRUE(decorate_import);
}

}  // namespace
}  // namespace warden::extism
