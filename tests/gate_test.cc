// The capability gate (policy/gate.h) end to end: tier policies and plugin documents written by
// each test, real plugins (tests/testdata/gate_plugin.wat, gate_wasi.wat, plugin_host_sleep.wat)
// created and called under them. Each link rule and each quota is tried with a plugin that
// breaks it.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "http_test_server.h"
#include "policy/gate.h"
#include "test_guest.h"

namespace warden::policy {
namespace {

namespace fs = std::filesystem;
using extism::Manifest;
using extism::PluginOptions;
using extism::WasmSource;

PluginIdentity by_id(std::string id) {
  PluginIdentity who;
  who.plugin_id = std::move(id);
  return who;
}
PluginIdentity by_tier(std::string tier) {
  PluginIdentity who;
  who.tier = std::move(tier);
  return who;
}
PluginIdentity by_source(std::string source) {
  PluginIdentity who;
  who.source = std::move(source);
  return who;
}

class Gate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("warden-gate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "plugins");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  // A tier policy whose `tiers:` block is `tiers` (YAML, indented by two), with plugins/.
  std::string policy(const std::string& tiers, const std::string& extra = "") {
    return write("policy.yaml", "plugins: [plugins]\n" + extra + "tiers:\n" + tiers);
  }
  Policy load(const std::string& path, const LoadOptions& options = {}) {
    auto p = Policy::load(path, options);
    if (!p) {
      std::string all;
      for (const auto& e : p.error()) all += e.text() + "\n";
      ADD_FAILURE() << "policy refused:\n" << all;
      throw std::runtime_error("policy");
    }
    return std::move(*p);
  }
  static Manifest manifest_of(const std::string& guest) {
    Manifest m;
    WasmSource s;
    s.data = test::guest_bytes(guest);
    m.wasm.push_back(std::move(s));
    return m;
  }
  // Admits `who` and creates the gated plugin; nullptr (and `error`) when refused.
  std::unique_ptr<GatedPlugin> create(const Policy& p, const PluginIdentity& who,
                                      const std::string& guest, GateError* error = nullptr,
                                      PluginOptions options = {},
                                      std::optional<std::vector<uint8_t>> signature = {}) {
    auto admission = p.admit(who);
    if (!admission) {
      if (error) *error = admission.error();
      return nullptr;
    }
    auto plugin = GatedPlugin::create(*admission, manifest_of(guest), std::move(signature),
                                      std::move(options));
    if (!plugin) {
      if (error) *error = plugin.error();
      return nullptr;
    }
    return std::move(*plugin);
  }
  static std::string ok(GatedPlugin& p, std::string_view function, std::string_view input = "") {
    auto r = p.call(function, input);
    EXPECT_TRUE(r) << function << ": " << (r ? "" : r.error().message);
    return r ? std::string(*r) : std::string();
  }
  static GateError err(GatedPlugin& p, std::string_view function, std::string_view input = "") {
    auto r = p.call(function, input);
    EXPECT_FALSE(r) << function << " succeeded: " << (r ? std::string(*r) : "");
    return r ? GateError{GateError::Kind::Plugin, "", 0} : r.error();
  }

  fs::path dir_;
};

const char* kTier3 = R"(  tier_3:
    sources: [customer-uploaded]
    capabilities: [memory_only, log_emit]
)";

// ---- linking: every import checked against the grants before any plugin code runs ----

TEST_F(Gate, AnImportOutsideTheTierIsRefusedAtCreationNamingImportAndCapability) {
  write("plugins/report-gen.yaml", "plugin_id: report-gen\ntier: tier_3\n");
  Policy p = load(policy(kTier3));
  GateError e;
  auto plugin = create(p, by_id("report-gen"), "gate_plugin", &e);
  ASSERT_EQ(plugin, nullptr);
  EXPECT_EQ(e.kind, GateError::Kind::Denied);
  EXPECT_EQ(e.message,
            "policy: plugin \"report-gen\" (tier_3) imports extism:host/env http_request, which "
            "needs network_outbound_allowlist");
}

TEST_F(Gate, TheDenialIsCountedOnTheAccountTheEmbedderHolds) {
  write("plugins/report-gen.yaml", "plugin_id: report-gen\ntier: tier_3\n");
  Policy p = load(policy(kTier3));
  auto account = extism::PluginAccount::of("report-gen");
  GateError e;
  EXPECT_EQ(create(p, by_id("report-gen"), "gate_plugin", &e), nullptr);
  EXPECT_EQ(account->counters().denied_at_link, 1u);
}

TEST_F(Gate, TheSamePluginRunsUnderATierWithTheNetwork) {
  testing::HttpTestServer server;
  Policy p = load(policy(R"(  tier_1:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits:
      allowed_hosts: ["127.0.0.1"]
)"));
  auto plugin = create(p, by_tier("tier_1"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "ping"), "pong");
  EXPECT_EQ(ok(*plugin, "fetch", "{\"url\":\"" + server.url("/hello") + "\"}"),
            "hello from the test server");
}

TEST_F(Gate, HostsOutsideThePolicyAreNotReached) {
  testing::HttpTestServer server;
  Policy p = load(policy(R"(  tier_1:
    capabilities: [network_outbound_allowlist, log_emit]
    resource_limits:
      allowed_hosts: ["api.example.com"]
)"));
  auto plugin = create(p, by_tier("tier_1"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  GateError e = err(*plugin, "fetch", "{\"url\":\"" + server.url("/hello") + "\"}");
  EXPECT_NE(e.message.find("is not allowed"), std::string::npos) << e.message;
  // A manifest cannot widen the policy's hosts.
  auto admission = p.admit(by_tier("tier_1"));
  ASSERT_TRUE(admission);
  Manifest m = manifest_of("gate_plugin");
  m.allowed_hosts = std::vector<std::string>{"127.0.0.1"};
  auto widened = GatedPlugin::create(*admission, m, std::nullopt);
  ASSERT_FALSE(widened);
  EXPECT_EQ(widened.error().message,
            "policy: the manifest allows host \"127.0.0.1\", which the policy does not grant "
            "tier \"tier_1\"");
}

TEST_F(Gate, UnderDenyAtCallOnlyTheCallThatUsesTheImportFails) {
  write("plugins/report-gen.yaml", "plugin_id: report-gen\ntier: tier_3\n");
  Policy p = load(policy(std::string(kTier3) + "    deny: at_call\n"));
  auto plugin = create(p, by_id("report-gen"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "ping"), "pong");
  EXPECT_EQ(ok(*plugin, "chatter"), "pong");  // log_emit is granted
  GateError e = err(*plugin, "fetch", "{\"url\":\"http://127.0.0.1:1/\"}");
  EXPECT_EQ(e.message,
            "policy: plugin \"report-gen\" (tier_3) imports extism:host/env http_request, which "
            "needs network_outbound_allowlist");
  EXPECT_EQ(ok(*plugin, "ping"), "pong");  // the plugin lives on
  EXPECT_EQ(plugin->plugin().account().counters().denied_at_call, 1u);
}

TEST_F(Gate, EveryRefusalReachesTheAccountsEventSink) {
  write("plugins/report-gen.yaml", "plugin_id: report-gen\ntier: tier_3\n");
  Policy p = load(policy(std::string(kTier3) + "    deny: at_call\n" +
                         "    resource_limits: {host_calls_per_second: {log_emit: 10}}\n"));
  auto account = extism::PluginAccount::of("report-gen");
  std::vector<extism::GateEvent> events;
  account->set_event_sink([&](const extism::GateEvent& e) { events.push_back(e); });
  auto plugin = create(p, by_id("report-gen"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  err(*plugin, "fetch", "{}");
  err(*plugin, "chatter");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, extism::GateEvent::Kind::DeniedAtCall);
  EXPECT_EQ(events[0].plugin_id, "report-gen");
  EXPECT_EQ(events[0].function, "extism:host/env http_request");
  EXPECT_EQ(events[0].capability, "network_outbound_allowlist");
  EXPECT_EQ(events[1].kind, extism::GateEvent::Kind::RateLimited);
  EXPECT_EQ(events[1].function, "extism:host/env log_info");
  EXPECT_EQ(events[1].message.rfind("policy: extism:host/env log_info is over its quota", 0), 0u);
  account->set_event_sink(nullptr);
}

TEST_F(Gate, AWasiPluginUnderATierWithoutWasiIsRefusedNamingTheFirstWasiImport) {
  Policy p = load(policy(kTier3));
  GateError e;
  EXPECT_EQ(create(p, by_tier("tier_3"), "gate_wasi", &e), nullptr);
  EXPECT_EQ(e.message,
            "policy: the plugin (tier_3) imports wasi_snapshot_preview1 fd_write, which needs "
            "wasi_stdio");
}

TEST_F(Gate, AWasiPluginRunsWithExactlyTheWasiCapabilitiesItImports) {
  Policy p = load(policy(R"(  wasi:
    capabilities: [wasi_stdio, wasi_clock, wasi_random]
  almost:
    capabilities: [wasi_stdio, wasi_clock]
)"));
  auto plugin = create(p, by_tier("wasi"), "gate_wasi");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "now"), "0");
  GateError e;
  EXPECT_EQ(create(p, by_tier("almost"), "gate_wasi", &e), nullptr);
  EXPECT_NE(e.message.find("random_get, which needs wasi_random"), std::string::npos) << e.message;
}

TEST_F(Gate, WithoutAnIdentityTheDefaultTierApplies) {
  Policy p = load(policy(kTier3, "default_tier: tier_3\n"));
  GateError e;
  EXPECT_EQ(create(p, {}, "gate_plugin", &e), nullptr);
  EXPECT_EQ(e.kind, GateError::Kind::Denied);
  // A source no tier lists also gets the default tier; a listed one its own.
  auto listed = p.admit(by_source("customer-uploaded"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->tier, "tier_3");
  Policy no_default = load(policy(kTier3));
  auto refused = no_default.admit(by_source("somewhere-else"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no tier"), std::string::npos);
}

TEST_F(Gate, AnEmbedderFunctionLinksOnlyWithItsCapability) {
  LoadOptions options;
  options.extra_capabilities = {"slow_calls"};
  Policy p = load(policy(R"(  with:
    capabilities: [slow_calls]
  without:
    capabilities: [log_emit]
)"),
                  options);
  auto make_options = [] {
    PluginOptions o;
    extism::PluginFunction f;
    f.name = "slow";
    f.capability = "slow_calls";
    f.host_class = extism::HostClass::ReadSafe;
    f.callback = [](extism::CurrentPlugin&, std::span<const Value>, std::span<Value>) {
      return HostResult{};
    };
    o.functions.push_back(std::move(f));
    return o;
  };
  auto plugin = create(p, by_tier("with"), "plugin_host_sleep", nullptr, make_options());
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "run"), "");
  GateError e;
  EXPECT_EQ(create(p, by_tier("without"), "plugin_host_sleep", &e, make_options()), nullptr);
  EXPECT_EQ(e.message,
            "policy: the plugin (without) imports extism:host/user slow, which needs slow_calls");
}

// ---- quotas at run time, each with its own error ----

TEST_F(Gate, CpuSecondsPerCallStopsASpinningCall) {
  Policy p = load(policy(R"(  t:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits:
      cpu_seconds_per_call: 0.2
)"));
  auto plugin = create(p, by_tier("t"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  GateError e = err(*plugin, "spin");
  EXPECT_EQ(e.message, "policy: the call used more than 0.2 s of CPU time (cpu_seconds_per_call)");
  EXPECT_EQ(plugin->plugin().account().counters().quota_refusals, 1u);
  EXPECT_EQ(ok(*plugin, "ping"), "pong");  // the next call starts afresh
}

TEST_F(Gate, CpuSecondsPerCallCountsCpuNotWallTime) {
  LoadOptions options;
  options.extra_capabilities = {"slow"};
  Policy p = load(policy(R"(  t:
    capabilities: [slow]
    resource_limits:
      cpu_seconds_per_call: 0.1
)"),
                  options);
  PluginOptions o;
  extism::PluginFunction f;
  f.name = "slow";
  f.callback = [](extism::CurrentPlugin&, std::span<const Value>, std::span<Value>) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // no CPU spent
    return HostResult{};
  };
  o.functions.push_back(std::move(f));
  auto plugin = create(p, by_tier("t"), "plugin_host_sleep", nullptr, std::move(o));
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "run"), "");
}

TEST_F(Gate, ConcurrentCallsAreCountedPerPluginIdAcrossInstances) {
  LoadOptions options;
  options.extra_capabilities = {"slow"};
  write("plugins/busy.yaml", "plugin_id: busy\ntier: t\n");
  Policy p = load(policy(R"(  t:
    capabilities: [slow]
    resource_limits:
      concurrent_calls: 1
)"),
                  options);
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, release = false;
  auto make_options = [&] {
    PluginOptions o;
    extism::PluginFunction f;
    f.name = "slow";
    f.callback = [&](extism::CurrentPlugin&, std::span<const Value>, std::span<Value>) {
      std::unique_lock lock(mutex);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return HostResult{};
    };
    o.functions.push_back(std::move(f));
    return o;
  };
  auto first = create(p, by_id("busy"), "plugin_host_sleep", nullptr, make_options());
  auto second = create(p, by_id("busy"), "plugin_host_sleep", nullptr, make_options());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::thread running([&] { EXPECT_EQ(ok(*first, "run"), ""); });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  GateError e = err(*second, "run");  // refused at once, while the first call runs
  EXPECT_EQ(e.message,
            "policy: plugin \"busy\" already runs 1 calls (concurrent_calls); call refused");
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  running.join();
  EXPECT_EQ(first->plugin().account().counters().calls_refused_concurrency, 1u);
  EXPECT_EQ(ok(*second, "run"), "");  // once the first is done, the second may run
}

TEST_F(Gate, HostCallsPerSecondIsATokenBucketPerCapability) {
  Policy p = load(policy(R"(  t:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits:
      host_calls_per_second: {log_emit: 10}
)"));
  auto plugin = create(p, by_tier("t"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  GateError e = err(*plugin, "chatter");  // 1000 log calls at once
  EXPECT_EQ(e.message,
            "policy: extism:host/env log_info is over its quota of 10 calls per second for "
            "log_emit (host_calls_per_second)");
  EXPECT_EQ(plugin->plugin().account().counters().host_calls_rate_limited, 1u);
  EXPECT_EQ(ok(*plugin, "ping"), "pong");  // other capabilities are not limited
}

TEST_F(Gate, MaxOutputBytesRefusesALargerOutput) {
  Policy p = load(policy(R"(  t:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits:
      max_output_bytes: 1000
)"));
  auto plugin = create(p, by_tier("t"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "big_output", "1000").size(), 1000u);
  GateError e = err(*plugin, "big_output", "1001");
  EXPECT_EQ(e.message, "policy: output of 1001 bytes is over max_output_bytes (1000)");
  e = err(*plugin, "big_output", "99999999999");  // a length far past the region
  EXPECT_NE(e.message.find("max_output_bytes"), std::string::npos) << e.message;
}

TEST_F(Gate, HttpEgressBytesPerCallCountsBodiesBothWays) {
  testing::HttpTestServer server;
  Policy p = load(policy(R"(  t:
    capabilities: [network_outbound_allowlist, log_emit]
    resource_limits:
      allowed_hosts: ["127.0.0.1"]
      http_egress_bytes_per_call: 1000
)"));
  auto plugin = create(p, by_tier("t"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "fetch", "{\"url\":\"" + server.url("/big/1000") + "\"}").size(), 1000u);
  GateError e = err(*plugin, "fetch", "{\"url\":\"" + server.url("/big/1001") + "\"}");
  EXPECT_NE(e.message.find("policy: HTTP response over what is left of "
                           "http_egress_bytes_per_call (1000 bytes per call)"),
            std::string::npos)
      << e.message;
  // The request's body counts before it is sent: its own JSON, padded past 1000 bytes.
  const std::string big = "{\"url\":\"" + server.url("/echo") +
                          "\",\"method\":\"POST\",\"pad\":\"" + std::string(1000, 'p') + "\"}";
  e = err(*plugin, "post", big);
  EXPECT_EQ(e.message.rfind("policy: HTTP request body of ", 0), 0u) << e.message;
  EXPECT_EQ(plugin->plugin().account().counters().quota_refusals, 2u);
}

TEST_F(Gate, FuelTimeAndMemoryComeFromTheTier) {
  Policy p = load(policy(R"(  fuel:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits: {fuel_per_call: 1000000}
  time:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits: {timeout_ms: 100}
  memory:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits: {memory: 1MiB}
)"));
  auto fuel = create(p, by_tier("fuel"), "gate_plugin");
  ASSERT_NE(fuel, nullptr);
  EXPECT_EQ(err(*fuel, "spin").message, "plugin ran out of fuel");
  auto time = create(p, by_tier("time"), "gate_plugin");
  ASSERT_NE(time, nullptr);
  EXPECT_EQ(err(*time, "spin").message, "timeout");
  auto memory = create(p, by_tier("memory"), "gate_plugin");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(err(*memory, "big_output", "2000000").message, "oom");
  EXPECT_EQ(ok(*memory, "big_output", "1000").size(), 1000u);
}

TEST_F(Gate, APluginDocumentNarrowsItsTierQuotas) {
  write("plugins/small.yaml", "plugin_id: small\ntier: t\nquotas: {max_output_bytes: 10}\n");
  Policy p = load(policy(R"(  t:
    capabilities: [log_emit, network_outbound_allowlist]
    resource_limits: {max_output_bytes: 1000}
)"));
  auto plugin = create(p, by_id("small"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(err(*plugin, "big_output", "11").message,
            "policy: output of 11 bytes is over max_output_bytes (10)");
}

// ---- I/O schemas ----

TEST_F(Gate, InputAndOutputSchemas) {
  write("plugins/schemas/in.json",
        R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"}}})");
  write("plugins/schemas/out.json",
        R"({"type":"object","properties":{"name":{"type":"string","maxLength":5}}})");
  write("plugins/echoer.yaml", R"(plugin_id: echoer
tier: t
io:
  echo:
    input_schema: schemas/in.json
    output_schema: schemas/out.json
)");
  Policy p = load(policy(R"(  t:
    capabilities: [log_emit, network_outbound_allowlist]
)"));
  auto plugin = create(p, by_id("echoer"), "gate_plugin");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ok(*plugin, "echo", R"({"name":"bob"})"), R"({"name":"bob"})");
  const uint64_t calls = plugin->plugin().stats().calls;
  // Refused before the plugin runs: the account saw no call.
  GateError e = err(*plugin, "echo", R"({"nom":"bob"})");
  EXPECT_EQ(e.kind, GateError::Kind::Schema);
  EXPECT_EQ(e.message.rfind("policy: input of \"echo\" refused: ", 0), 0u) << e.message;
  EXPECT_EQ(err(*plugin, "echo", "not json").kind, GateError::Kind::Schema);
  EXPECT_EQ(err(*plugin, "echo", std::string(100000, '[')).kind, GateError::Kind::Schema);
  EXPECT_EQ(plugin->plugin().stats().calls, calls);
  // The plugin ran, its output did not validate: the call fails.
  e = err(*plugin, "echo", R"({"name":"\u001b[2Jlonger"})");
  EXPECT_EQ(e.kind, GateError::Kind::Schema);
  EXPECT_EQ(e.message.rfind("policy: output of \"echo\" refused: ", 0), 0u) << e.message;
  EXPECT_EQ(e.message.find('\x1b'), std::string::npos) << "the plugin's bytes are escaped";
  EXPECT_EQ(plugin->plugin().stats().calls, calls + 1);
  // Functions without schemas are not checked.
  EXPECT_EQ(ok(*plugin, "ping", "not json"), "pong");
}

// ---- documents: tier creep is refused by the library ----

TEST_F(Gate, TierCreepIsRefusedWhenThePolicyLoads) {
  write("plugins/creep.yaml",
        "plugin_id: creep\ntier: tier_3\nhost_api_capabilities: [log_emit, "
        "network_outbound_allowlist]\n");
  auto loaded = Policy::load(policy(kTier3));
  ASSERT_FALSE(loaded);
  bool named = false;
  for (const PolicyError& e : loaded.error())
    named |= e.text().find("tier creep") != std::string::npos &&
             e.text().find("network_outbound_allowlist") != std::string::npos;
  EXPECT_TRUE(named) << loaded.error().front().text();
}

// ---- supply chain ----

TEST_F(Gate, ATierThatRequiresASignatureRefusesAnUnsignedPlugin) {
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + (dir_ / "k.pem").string() +
                         " 2>/dev/null && openssl pkey -in " + (dir_ / "k.pem").string() +
                         " -pubout -out " + (dir_ / "k.pub.pem").string())
                            .c_str()),
            0);
  Policy p = load(policy(R"(  signed:
    capabilities: [log_emit, network_outbound_allowlist]
    supply_chain:
      signature: required
      keys: [k.pub.pem]
)"));
  GateError e;
  EXPECT_EQ(create(p, by_tier("signed"), "gate_plugin", &e), nullptr);
  EXPECT_EQ(e.kind, GateError::Kind::Signature);
  EXPECT_EQ(e.message,
            "signature: tier \"signed\" requires a signed plugin, and no signature was given");

  std::ifstream in(dir_ / "k.pem");
  const std::string pem{std::istreambuf_iterator<char>(in), {}};
  const auto bytes = test::guest_bytes("gate_plugin");
  auto signature = sign_plugin(bytes, pem, SignatureFormat::Ed25519);
  ASSERT_TRUE(signature) << signature.error().message;
  auto plugin = create(p, by_tier("signed"), "gate_plugin", &e, {}, *signature);
  ASSERT_NE(plugin, nullptr) << e.message;
  EXPECT_EQ(ok(*plugin, "ping"), "pong");
  // One flipped byte of the signature: refused.
  auto bad = *signature;
  bad[10] ^= 1;
  EXPECT_EQ(create(p, by_tier("signed"), "gate_plugin", &e, {}, bad), nullptr);
  EXPECT_EQ(e.kind, GateError::Kind::Signature);

  // A DSSE statement bounds the grants: signed for memory_only and log_emit, the plugin cannot
  // be relabelled into the network its tier would allow.
  SignedStatement statement{"gate", "1.0", extism::sha256_hex(bytes), {"memory_only", "log_emit"}};
  auto envelope = sign_plugin(bytes, pem, SignatureFormat::Dsse, &statement);
  ASSERT_TRUE(envelope) << envelope.error().message;
  EXPECT_EQ(create(p, by_tier("signed"), "gate_plugin", &e, {}, *envelope), nullptr);
  EXPECT_EQ(e.kind, GateError::Kind::Denied);
  EXPECT_NE(e.message.find("http_request, which needs network_outbound_allowlist"),
            std::string::npos)
      << e.message;
}

}  // namespace
}  // namespace warden::policy
