// The multi-tenant host (policy/host/): tenants isolated through vars, instances and host
// context; LRU, memory and TTL eviction; pre-warmed instances carrying no tenant's data; the
// audit log (records, denials, fail-closed on /dev/full); the outcome kinds. The plugin is
// tests/testdata/host_tenant.wat under a tier policy each test writes.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_test_server.h"
#include "policy/host/plugin_host.h"
#include "test_guest.h"

namespace warden::host {
namespace {

namespace fs = std::filesystem;
using Kind = HostError::Kind;

constexpr const char* kTier = R"(default_tier: tenants
tiers:
  tenants:
    capabilities: [vars, tenant_note]
    resource_limits:
      timeout_ms: 300
      memory: 16MiB
)";

class Host : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("warden-host-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  policy::Policy load(const std::string& yaml = kTier) {
    const fs::path path = dir_ / "policy.yaml";
    std::ofstream(path) << yaml;
    policy::LoadOptions options;
    options.extra_capabilities = {"tenant_note", "init_seen"};
    auto p = policy::Policy::load(path.string(), options);
    if (!p) {
      for (const auto& e : p.error()) ADD_FAILURE() << e.text();
      throw std::runtime_error("policy refused");
    }
    return std::move(*p);
  }
  static extism::Manifest manifest(const std::string& guest = "host_tenant") {
    extism::Manifest m;
    extism::WasmSource s;
    s.data = test::guest_bytes(guest);
    m.wasm.push_back(std::move(s));
    return m;
  }
  // tenant_note(input) -> "TENANT|CONTEXT|INPUT", CONTEXT being the std::string the caller
  // passed (or "-"); counts its calls.
  TenantFunction tenant_note() {
    TenantFunction f;
    f.name = "tenant_note";
    f.type = FuncType{{ValType::I64}, {ValType::I64}};
    f.host_class = extism::HostClass::ReadSensitive;
    f.roles = {extism::roles::Handle};
    f.callback = [this](extism::CurrentPlugin& plugin, const TenantCall& call,
                        std::span<const Value> args, std::span<Value> results) -> HostResult {
      ++note_calls_;
      if (gate_) gate_();
      if (fail_note_) return extism::CurrentPlugin::fail("tenant_note is failing");
      const auto* context = static_cast<const std::string*>(call.host_context);
      const std::string text = std::string(call.tenant_id) + "|" + (context ? *context : "-") +
                               "|" + std::string(plugin.text(args[0].as_i64()));
      results[0] = Value::i64(static_cast<int64_t>(plugin.alloc_copy(text)));
      return {};
    };
    return f;
  }
  std::unique_ptr<PluginHost> make(HostOptions options = {}, const std::string& yaml = kTier) {
    options.functions.push_back(tenant_note());
    auto host = std::make_unique<PluginHost>(load(yaml), std::move(options));
    auto added = host->add("notes", "1", manifest());
    EXPECT_TRUE(added) << added.error().message;
    return host;
  }
  static std::string ok(Result<CallResult, HostError> r) {
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->output : "<error>";
  }
  // The audit records, without the rollout ones (each add writes one) unless asked.
  std::vector<nlohmann::json> records(const fs::path& path, bool rollouts = false) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      auto record = nlohmann::json::parse(line);
      if (rollouts || record["event"] != "rollout") out.push_back(std::move(record));
    }
    return out;
  }

  fs::path dir_;
  std::atomic<int> note_calls_{0};
  std::function<void()> gate_;
  bool fail_note_ = false;
};

TEST_F(Host, EachTenantSeesOnlyItsOwnVars) {
  auto host = make();
  ok(host->call("notes", "alice", "remember", "alice-secret-1"));
  ok(host->call("notes", "bob", "remember", "bob-secret-2"));
  EXPECT_EQ(ok(host->call("notes", "alice", "recall", "")), "alice-secret-1");
  EXPECT_EQ(ok(host->call("notes", "bob", "recall", "")), "bob-secret-2");
  EXPECT_EQ(ok(host->call("notes", "carol", "recall", "")), "");
  const PoolStats s = host->pool_stats();
  EXPECT_EQ(s.instances, 3u);
  EXPECT_EQ(s.created, 3u);
  EXPECT_EQ(s.reused, 2u);
}

TEST_F(Host, TenantFunctionsSeeTheirTenantAndTheCallersContext) {
  auto host = make();
  const std::string context = "request-17";
  EXPECT_EQ(ok(host->call("notes", "alice", "note", "hi", &context)), "alice|request-17|hi");
  EXPECT_EQ(ok(host->call("notes", "bob", "note", "yo")), "bob|-|yo");
  // The context is the call's only: the next call of alice without one sees none.
  EXPECT_EQ(ok(host->call("notes", "alice", "note", "again")), "alice|-|again");
}

TEST_F(Host, ConcurrentTenantsNeverSeeEachOthersState) {
  auto host = make();
  constexpr int kTenants = 8, kCalls = 40;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kTenants; ++t) {
    threads.emplace_back([&, t] {
      const std::string tenant = "tenant-" + std::to_string(t % 4);  // two threads per tenant
      const std::string secret = "secret-of-" + tenant;
      for (int i = 0; i < kCalls; ++i) {
        auto r = host->call("notes", tenant, "remember", secret);
        auto back = host->call("notes", tenant, "recall", "");
        auto note = host->call("notes", tenant, "note", "x", &secret);
        if (!r || !back || back->output != secret || !note ||
            note->output != tenant + "|" + secret + "|x")
          ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(host->pool_stats().instances, 4u);
}

TEST_F(Host, LeastRecentlyUsedTenantIsEvictedAtTheInstanceLimit) {
  HostOptions options;
  options.pool.max_instances = 2;
  auto host = make(std::move(options));
  ok(host->call("notes", "a", "remember", "A"));
  ok(host->call("notes", "b", "remember", "B"));
  ok(host->call("notes", "a", "recall", ""));     // a is now the most recent
  ok(host->call("notes", "c", "remember", "C"));  // evicts b
  EXPECT_EQ(host->pool_stats().evicted_lru, 1u);
  EXPECT_EQ(ok(host->call("notes", "a", "recall", "")), "A");
  // b's instance went with its vars; its next call starts from a fresh one (evicting c).
  EXPECT_EQ(ok(host->call("notes", "b", "recall", "")), "");
  EXPECT_EQ(host->pool_stats().instances, 2u);
}

TEST_F(Host, IdleInstancesAreEvictedToStayUnderTheMemoryLimit) {
  HostOptions options;
  options.pool.max_memory_bytes = 3 << 20;  // 3 MiB
  auto host = make(std::move(options));
  ok(host->call("notes", "small", "remember", "S"));
  const uint64_t one = host->pool_stats().memory_bytes;
  ASSERT_GT(one, 0u);
  // big grows until it and small are over the limit, but big alone is not.
  const uint64_t pages = ((uint64_t{3} << 20) - 2 * one) / kPageSize + 1;
  ok(host->call("notes", "big", "grow", std::string(pages, 'x')));
  const PoolStats s = host->pool_stats();
  EXPECT_GE(s.evicted_memory, 1u);
  EXPECT_LE(s.memory_bytes, uint64_t{3} << 20);
  EXPECT_EQ(s.instances, 1u);                                     // big stays
  EXPECT_EQ(ok(host->call("notes", "small", "recall", "")), "");  // it was the one evicted
}

TEST_F(Host, IdleInstancesExpireAfterTheirTtl) {
  auto now = std::chrono::steady_clock::now();
  HostOptions options;
  options.pool.ttl = std::chrono::seconds(60);
  options.clock = [&now] { return now; };
  auto host = make(std::move(options));
  ok(host->call("notes", "a", "remember", "A"));
  now += std::chrono::seconds(30);
  ok(host->call("notes", "b", "remember", "B"));
  now += std::chrono::seconds(31);  // a idle for 61 s, b for 31 s
  host->evict_expired();
  PoolStats s = host->pool_stats();
  EXPECT_EQ(s.evicted_ttl, 1u);
  EXPECT_EQ(s.instances, 1u);
  EXPECT_EQ(ok(host->call("notes", "b", "recall", "")), "B");
  EXPECT_EQ(ok(host->call("notes", "a", "recall", "")), "");
}

TEST_F(Host, PrewarmedInstancesServeNewTenantsAndCarryNoTenantsData) {
  HostOptions options;
  options.pool.prewarm = 2;
  options.pool.max_instances = 1;
  auto host = make(std::move(options));
  for (int i = 0; i < 200 && host->pool_stats().prewarmed < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(host->pool_stats().prewarmed, 2u);
  ok(host->call("notes", "alice", "remember", "alice-only-secret"));
  EXPECT_EQ(host->pool_stats().from_prewarm, 1u);
  // alice's instance is evicted for bob, who gets the other pre-warmed one: never alice's.
  EXPECT_EQ(ok(host->call("notes", "bob", "recall", "")), "");
  EXPECT_EQ(host->pool_stats().from_prewarm, 2u);
  EXPECT_EQ(ok(host->call("notes", "bob", "note", "n")), "bob|-|n");
}

// tests/testdata/plugin_snapshot.wat behind the host: its init tells init_seen, `keep` stores a
// tenant's secret in memory, a global, a grown page and a var, `state` reports all of them.
class SnapshotHost : public Host {
 protected:
  std::unique_ptr<PluginHost> make_snapshot_host(bool snapshots, size_t max_instances) {
    HostOptions options;
    options.snapshots = snapshots;
    options.pool.max_instances = max_instances;
    TenantFunction seen;
    seen.name = "init_seen";
    seen.type = FuncType{{}, {}};
    seen.host_class = extism::HostClass::AuditOnly;
    seen.callback = [this](extism::CurrentPlugin&, const TenantCall& call, std::span<const Value>,
                           std::span<Value>) -> HostResult {
      ++inits_;
      if (!call.tenant_id.empty()) init_tenants_.push_back(std::string(call.tenant_id));
      return {};
    };
    options.functions.push_back(std::move(seen));
    auto host = std::make_unique<PluginHost>(load(R"(default_tier: tenants
tiers:
  tenants:
    capabilities: [vars, init_seen]
    resource_limits:
      memory: 16MiB
)"),
                                             std::move(options));
    auto added = host->add("snap", "1", manifest("plugin_snapshot"));
    EXPECT_TRUE(added) << added.error().message;
    return host;
  }
  // The secret (16 bytes at 4096), its length (a global) and the var's length, as `state` sees.
  struct Seen {
    std::string secret;
    uint32_t inits = 0, secret_len = 0, var_secret = 0, marker = 0;
  };
  Seen state(PluginHost& host, const std::string& tenant) {
    const std::string out = ok(host.call("snap", tenant, "state", ""));
    Seen s;
    if (out.size() != 52) {
      ADD_FAILURE() << "state of " << out.size() << " bytes";
      return s;
    }
    auto word = [&](size_t at) {
      uint32_t w;
      std::memcpy(&w, out.data() + at, 4);
      return w;
    };
    s.inits = word(0);
    s.secret_len = word(4);
    s.marker = word(12);
    s.secret = out.substr(16, 16);
    s.var_secret = word(40);
    return s;
  }
  static std::string secret_of(int tenant) {
    std::string s = "secret-of-" + std::to_string(tenant);
    s.resize(16, '#');
    return s;
  }
  std::atomic<int> inits_{0};
  std::vector<std::string> init_tenants_;
};

TEST_F(SnapshotHost, EveryNewTenantStartsFromTheSnapshotWithNoOtherTenantsSecret) {
  // Four instances for 40 tenants: instances are made (from the snapshot) after others have
  // written their secrets, and evicted ones are never handed to another tenant.
  auto host = make_snapshot_host(true, 4);
  const std::optional<Deployment> d = host->deployment("snap");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->active_from_snapshot) << d->snapshot_refusal;
  EXPECT_EQ(inits_, 1);  // the prototype's init, at admission
  for (int round = 0; round < 2; ++round) {
    for (int t = 0; t < 40; ++t) {
      const std::string tenant = "tenant-" + std::to_string(t);
      const Seen fresh = state(*host, tenant);
      EXPECT_EQ(fresh.inits, 1u);
      EXPECT_EQ(fresh.marker, 0x54494E49u);  // what init wrote is there
      EXPECT_EQ(fresh.secret, std::string(16, '\0')) << tenant << " round " << round;
      EXPECT_EQ(fresh.secret_len, 0u) << tenant;
      EXPECT_EQ(fresh.var_secret, 0u) << tenant;
      ok(host->call("snap", tenant, "keep", secret_of(t)));
      const Seen kept = state(*host, tenant);
      EXPECT_EQ(kept.secret, secret_of(t));
      EXPECT_EQ(kept.var_secret, 16u);
    }
  }
  EXPECT_GE(host->pool_stats().created, 80u);
  EXPECT_EQ(inits_, 1);  // never again, for any of the instances
  EXPECT_TRUE(init_tenants_.empty());
}

TEST_F(SnapshotHost, WithoutSnapshotsEveryInstanceRunsInit) {
  auto host = make_snapshot_host(false, 4);
  const std::optional<Deployment> d = host->deployment("snap");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->active_from_snapshot);
  EXPECT_EQ(d->snapshot_refusal, "snapshots are off");
  for (int t = 0; t < 6; ++t) {
    ok(host->call("snap", "tenant-" + std::to_string(t), "keep", secret_of(t)));
    EXPECT_EQ(state(*host, "tenant-" + std::to_string(t)).secret, secret_of(t));
  }
  EXPECT_EQ(static_cast<uint64_t>(inits_), host->pool_stats().created);
}

TEST_F(SnapshotHost, APluginWhoseInitCannotBeSnapshottedStillServes) {
  HostOptions options;
  options.plugin_options.wasi = true;
  auto host = std::make_unique<PluginHost>(load(R"(default_tier: tenants
tiers:
  tenants:
    capabilities: [vars, wasi_random]
)"),
                                           std::move(options));
  auto added = host->add("random", "1", manifest("plugin_snapshot_random"));
  ASSERT_TRUE(added) << added.error().message;
  const std::optional<Deployment> d = host->deployment("random");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->active_from_snapshot);
  EXPECT_NE(d->snapshot_refusal.find("random_get"), std::string::npos) << d->snapshot_refusal;
}

TEST_F(Host, EveryInvocationIsAnAuditRecord) {
  HostOptions options;
  auto log = AuditLog::open((dir_ / "audit.jsonl").string());
  ASSERT_TRUE(log) << log.error();
  options.audit = std::move(*log);
  auto host = make(std::move(options));
  ok(host->call("notes", "alice", "remember", "s"));
  auto spin = host->call("notes", "bob\x1b[2J", "spin", "");
  ASSERT_FALSE(spin);
  EXPECT_EQ(spin.error().kind, Kind::Timeout);
  auto trap = host->call("notes", "carol", "trap", "");
  ASSERT_FALSE(trap);
  EXPECT_EQ(trap.error().kind, Kind::Trap);
  const auto r = records(dir_ / "audit.jsonl");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["event"], "invocation");
  EXPECT_EQ(r[0]["plugin"], "notes");
  EXPECT_EQ(r[0]["version"], "1");
  EXPECT_EQ(r[0]["tenant"], "alice");
  EXPECT_EQ(r[0]["function"], "remember");
  EXPECT_EQ(r[0]["outcome"], "ok");
  EXPECT_GT(r[0]["memory_pages"].get<int>(), 0);
  EXPECT_EQ(r[1]["tenant"], "bob\\x1b[2J");  // escaped, like every untrusted string
  EXPECT_EQ(r[1]["outcome"], "timeout");
  EXPECT_GE(r[1]["duration_ms"].get<double>(), 250.0);
  EXPECT_EQ(r[2]["outcome"], "trap");
}

TEST_F(Host, HostCallsAreAuditedOneInN) {
  HostOptions options;
  auto log = AuditLog::open((dir_ / "audit.jsonl").string(), {.host_call_sample_every = 1});
  ASSERT_TRUE(log);
  options.audit = std::move(*log);
  auto host = make(std::move(options));
  ok(host->call("notes", "alice", "note", "x"));
  std::vector<std::string> functions;
  for (const auto& r : records(dir_ / "audit.jsonl"))
    if (r["event"] == "host_call") {
      EXPECT_EQ(r["tenant"], "alice");
      EXPECT_EQ(r["allowed"], true);
      functions.push_back(r["function"]);
    }
  // "note": input_offset, the tenant function, length, output_set.
  EXPECT_EQ(functions, (std::vector<std::string>{
                           "extism:host/env input_offset", "extism:host/user tenant_note",
                           "extism:host/env length", "extism:host/env output_set"}));

  HostOptions sparse;
  auto log2 = AuditLog::open((dir_ / "sparse.jsonl").string(), {.host_call_sample_every = 4});
  ASSERT_TRUE(log2);
  sparse.audit = std::move(*log2);
  auto host2 = make(std::move(sparse));
  for (int i = 0; i < 3; ++i) ok(host2->call("notes", "bob", "note", "x"));  // 12 host calls
  size_t sampled = 0;
  for (const auto& r : records(dir_ / "sparse.jsonl")) sampled += r["event"] == "host_call";
  EXPECT_EQ(sampled, 3u);
}

TEST_F(Host, DenialsAreAuditedWithTheirTenant) {
  HostOptions options;
  auto log = AuditLog::open((dir_ / "audit.jsonl").string());
  ASSERT_TRUE(log);
  options.audit = std::move(*log);
  auto host = make(std::move(options), R"(default_tier: strict
tiers:
  strict:
    capabilities: [vars]
    deny: at_call
)");
  auto r = host->call("notes", "mallory", "note", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Kind::Denied);
  EXPECT_NE(r.error().message.find("tenant_note"), std::string::npos) << r.error().message;
  EXPECT_EQ(note_calls_.load(), 0);
  const auto recs = records(dir_ / "audit.jsonl");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["event"], "denial");
  EXPECT_EQ(recs[0]["kind"], "denied_at_call");
  EXPECT_EQ(recs[0]["tenant"], "mallory");
  EXPECT_EQ(recs[0]["capability"], "tenant_note");
  EXPECT_EQ(recs[1]["outcome"], "denied");
}

TEST_F(Host, FailClosedRefusesTheCallWhenTheRecordCannotBeWritten) {
  HostOptions options;
  auto log = AuditLog::open("/dev/full", {.fail_closed = true});
  ASSERT_TRUE(log) << log.error();
  options.audit = std::move(*log);
  auto host = make(std::move(options));
  auto r = host->call("notes", "alice", "note", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Kind::Audit);
  EXPECT_NE(r.error().message.find("/dev/full"), std::string::npos) << r.error().message;
  EXPECT_EQ(note_calls_.load(), 0);  // nothing ran
  EXPECT_EQ(host->pool_stats().instances, 0u);
}

TEST_F(Host, WithoutFailClosedAnUnwritableLogDoesNotStopCalls) {
  HostOptions options;
  auto log = AuditLog::open("/dev/full");
  ASSERT_TRUE(log);
  std::shared_ptr<AuditLog> shared = std::move(*log);
  options.audit = shared;
  auto host = make(std::move(options));
  EXPECT_EQ(ok(host->call("notes", "alice", "note", "x")), "alice|-|x");
  EXPECT_EQ(shared->failures(), 2u);  // the version's rollout record and the call's
}

TEST_F(Host, ClosedPipeFailsTheRecordInsteadOfKillingTheProcess) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // nobody reads: a write gets EPIPE (and SIGPIPE, which must not kill us)
  auto log = AuditLog::open("/proc/self/fd/" + std::to_string(fds[1]), {.fail_closed = true});
  ASSERT_TRUE(log) << log.error();
  HostOptions options;
  options.audit = std::move(*log);
  auto host = make(std::move(options));
  auto r = host->call("notes", "alice", "note", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Kind::Audit);
  EXPECT_EQ(note_calls_.load(), 0);
  ::close(fds[1]);
}

TEST_F(Host, ACallNeedsATenantAndAKnownPlugin) {
  auto host = make();
  auto none = host->call("notes", "", "recall", "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, Kind::BadRequest);
  auto unknown = host->call("nope\x1b[2J", "a", "recall", "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, Kind::UnknownPlugin);
  EXPECT_EQ(unknown.error().message, "no plugin \"nope\\x1b[2J\"");
  auto missing = host->call("notes", "a", "no_such_export", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Kind::BadRequest);
}

TEST_F(Host, IdentifiersAreBoundedAndHoldNoNul) {
  auto host = make();
  auto huge = host->call("notes", std::string(1 << 20, 't'), "recall", "");
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().kind, Kind::BadRequest);
  EXPECT_NE(huge.error().message.find("(1048576 bytes) must be at most 256 bytes"),
            std::string::npos)
      << huge.error().message;
  EXPECT_LT(huge.error().message.size(), 200u);  // the id is not echoed whole
  auto nul = host->call("notes", std::string("a\0b", 3), "recall", "");
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().kind, Kind::BadRequest);
  EXPECT_TRUE(host->call("notes", std::string(256, 't'), "recall", ""));
  EXPECT_EQ(host->pool_stats().instances, 1u);
  for (const std::string& id :
       {std::string("a@b"), std::string("a\0b", 3), std::string(129, 'p')}) {
    auto added = host->add(id, "1", manifest());
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().kind, Kind::BadRequest);
  }
  EXPECT_FALSE(host->add("notes", std::string("1\0", 2), manifest()));
}

TEST_F(Host, ANewVersionReplacesTheOldOnesInstances) {
  auto host = make();
  ok(host->call("notes", "alice", "remember", "v1-state"));
  ASSERT_TRUE(host->add("notes", "2", manifest()));
  EXPECT_EQ(host->active_version("notes"), "2");
  EXPECT_EQ(host->pool_stats().instances, 0u);
  EXPECT_EQ(ok(host->call("notes", "alice", "recall", "")), "");
}

TEST_F(Host, APluginTheGateRefusesIsNotAdded) {
  PluginHost host(load(R"(default_tier: bare
tiers:
  bare:
    capabilities: [vars]
)"));
  // tenant_note is not granted (and not offered): refused at link, naming it.
  auto added = host.add("notes", "1", manifest());
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, Kind::Admission);
  EXPECT_NE(added.error().message.find("tenant_note"), std::string::npos) << added.error().message;
  EXPECT_FALSE(host.active_version("notes"));
}

TEST_F(Host, AFullPoolRefusesAtOnceWhileEveryInstanceIsBusy) {
  HostOptions options;
  options.pool.max_instances = 1;
  std::mutex m;
  std::condition_variable cv;
  bool inside = false, release = false;
  gate_ = [&] {
    std::unique_lock lock(m);
    inside = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  auto host = make(std::move(options));
  std::thread busy([&] { ok(host->call("notes", "alice", "note", "x")); });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return inside; });
  }
  auto r = host->call("notes", "bob", "recall", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Kind::PoolFull);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  busy.join();
  gate_ = nullptr;
  EXPECT_EQ(ok(host->call("notes", "bob", "recall", "")), "");  // now alice's idle one goes
}

TEST_F(Host, ACanaryThatFailsHalfItsCallsIsRolledBackWithinItsWindow) {
  HostOptions options;
  auto log = AuditLog::open((dir_ / "audit.jsonl").string());
  ASSERT_TRUE(log);
  options.audit = std::move(*log);
  auto host = make(std::move(options));
  ASSERT_TRUE(host->add_canary("notes", "2", manifest("host_tenant_flaky"), std::nullopt,
                               {.share = 0.5, .min_calls = 10, .window = std::chrono::hours(1)}));
  EXPECT_EQ(host->deployment("notes")->canary, "2");
  int calls = 0, failures = 0;
  for (; calls < 400 && host->deployment("notes")->canary; ++calls)
    if (!host->call("notes", "tenant-" + std::to_string(calls), "recall", "")) ++failures;
  const Deployment d = *host->deployment("notes");
  EXPECT_FALSE(d.canary) << "not rolled back after " << calls << " calls";
  EXPECT_EQ(d.active, "1");
  EXPECT_GE(failures, 5);
  // From now on every call runs on version 1 and succeeds.
  for (int i = 0; i < 50; ++i) {
    const std::string tenant = "after-" + std::to_string(i);  // built apart: GCC 12 -Wrestrict
    EXPECT_TRUE(host->call("notes", tenant, "recall", ""));
  }
  bool rolled_back = false;
  for (const auto& r : records(dir_ / "audit.jsonl", /*rollouts=*/true))
    if (r["event"] == "rollout" && r["action"] == "rolled_back") {
      rolled_back = true;
      EXPECT_EQ(r["version"], "2");
      EXPECT_NE(r["reason"].get<std::string>().find("error rate"), std::string::npos) << r;
    }
  EXPECT_TRUE(rolled_back);
}

TEST_F(Host, AHealthyCanaryIsPromotedAfterItsWindowAndTenantsStayOnTheirVersion) {
  auto now = std::chrono::steady_clock::now();
  HostOptions options;
  options.clock = [&now] { return now; };
  auto host = make(std::move(options));
  ASSERT_TRUE(host->add_canary("notes", "2", manifest(), std::nullopt,
                               {.share = 0.5, .min_calls = 5, .window = std::chrono::minutes(10)}));
  // A tenant keeps its version, so its state: what it remembers it recalls, on either version.
  for (int t = 0; t < 40; ++t) {
    const std::string tenant = "tenant-" + std::to_string(t);
    ok(host->call("notes", tenant, "remember", "secret-" + tenant));
    EXPECT_EQ(ok(host->call("notes", tenant, "recall", "")), "secret-" + tenant);
  }
  Deployment d = *host->deployment("notes");
  ASSERT_EQ(d.canary, "2");              // within its window: not promoted yet
  EXPECT_GT(d.canary_tally.calls, 16u);  // about half of the 80 calls
  EXPECT_GT(d.active_tally.calls, 16u);
  now += std::chrono::minutes(11);
  for (int t = 0; t < 40 && host->deployment("notes")->canary; ++t)
    ok(host->call("notes", "tenant-" + std::to_string(t), "recall", ""));
  d = *host->deployment("notes");
  EXPECT_FALSE(d.canary);
  EXPECT_EQ(d.active, "2");
}

TEST_F(Host, ARollbackLetsTheCallInFlightFinish) {
  std::mutex m;
  std::condition_variable cv;
  bool inside = false, release = false;
  auto host = make();
  ASSERT_TRUE(host->add_canary("notes", "2", manifest(), std::nullopt, {.share = 1.0}));
  gate_ = [&] {
    std::unique_lock lock(m);
    inside = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  std::string in_flight;
  std::thread call([&] { in_flight = ok(host->call("notes", "alice", "note", "x")); });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return inside; });
  }
  ASSERT_TRUE(host->rollback("notes"));  // while alice's call runs on version 2
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  call.join();
  gate_ = nullptr;
  EXPECT_EQ(in_flight, "alice|-|x");
  EXPECT_FALSE(host->deployment("notes")->canary);
  EXPECT_EQ(host->pool_stats().instances, 0u);  // version 2's instance went when its call ended
  EXPECT_EQ(ok(host->call("notes", "alice", "note", "y")), "alice|-|y");
  EXPECT_FALSE(host->rollback("notes"));  // nothing left to roll back
}

TEST_F(Host, AVersionIsRegisteredOnce) {
  auto host = make();
  auto again = host->add("notes", "1", manifest());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Kind::BadRequest);
  auto no_active = host->add_canary("other", "1", manifest(), std::nullopt, {});
  ASSERT_FALSE(no_active);
  EXPECT_EQ(no_active.error().kind, Kind::UnknownPlugin);
  auto bad_share = host->add_canary("notes", "2", manifest(), std::nullopt, {.share = 1.5});
  ASSERT_FALSE(bad_share);
  EXPECT_EQ(bad_share.error().kind, Kind::BadRequest);
}

// promtool (Debian's prometheus) checks the exposition; a missing promtool fails the test. It
// must parse (exit 1 would be a parse error) with one lint only: promtool's linter objects to
// the "_ms" in extism_plugin_call_duration_ms, the name the seed documents give (exit 3), and
// operators' dashboards use that name.
constexpr const char* kPromtoolClean =
    "extism_plugin_call_duration_ms metric names should not contain abbreviated units\nrc=3\n";
std::string promtool_check(const std::string& exposition, const fs::path& dir) {
  const fs::path file = dir / "metrics.txt";
  std::ofstream(file) << exposition;
  const std::string command = "promtool check metrics < '" + file.string() + "' 2>&1; echo rc=$?";
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST_F(Host, MetricsCountEveryOutcomeAndPassPromtool) {
  HostOptions options;
  auto metrics = std::make_shared<HostMetrics>();
  options.metrics = metrics;
  auto host = make(std::move(options));
  ok(host->call("notes", "alice", "remember", "a"));
  ok(host->call("notes", "bob", "remember", "b"));
  ASSERT_FALSE(host->call("notes", "alice", "spin", ""));
  ASSERT_FALSE(host->call("notes", "alice", "trap", ""));
  ASSERT_FALSE(host->call("notes", "alice", "no\x1b[2Jsuch", ""));
  ok(host->call("notes", "alice", "note", "1"));
  ok(host->call("notes", "bob", "note", "2"));
  ok(host->call("notes", "bob", "note", "3"));
  fail_note_ = true;
  ASSERT_FALSE(host->call("notes", "carol", "note", "4"));
  const std::string text = metrics->text();
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
  };
  has(R"(extism_plugin_calls_total{function="remember",plugin="notes",status="ok"} 2)");
  has(R"(extism_plugin_calls_total{function="spin",plugin="notes",status="timeout"} 1)");
  has(R"(extism_plugin_calls_total{function="trap",plugin="notes",status="trap"} 1)");
  has(R"(extism_plugin_calls_total{function="_unknown",plugin="notes",status="bad_request"} 1)");
  has(R"(extism_plugin_timeout_total{plugin="notes"} 1)");
  has(R"(plugin_invocations_total{outcome="ok",plugin_id="notes",tier="tenants"} 5)");
  has(R"(extism_plugin_call_duration_ms_count{plugin="notes"} 9)");
  // Host functions, by what they returned: three notes answered, one failed (across tenants).
  has(R"(extism_host_function_calls_total{function="extism:host/user tenant_note",plugin="notes",status="ok"} 3)");
  has(R"(extism_host_function_calls_total{function="extism:host/user tenant_note",plugin="notes",status="error"} 1)");
  has(R"(plugin_host_api_calls_total{allowed="true",function="extism:host/user tenant_note",plugin_id="notes"} 4)");
  has(R"(extism_plugin_memory_pages_used{plugin="notes",tenant="bob"} 1)");
  has(R"(plugin_rollout_events_total{action="active",plugin_id="notes"} 1)");
  has(R"(plugin_memory_limit_pages{plugin_id="notes"} 256)");  // memory: 16MiB
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  const std::string checked = promtool_check(text, dir_);
  EXPECT_EQ(checked, kPromtoolClean) << checked;
}

TEST_F(Host, DenialsAndRefusedVersionsAreCounted) {
  HostOptions options;
  auto metrics = std::make_shared<HostMetrics>();
  options.metrics = metrics;
  auto host = make(std::move(options), R"(default_tier: strict
tiers:
  strict:
    capabilities: [vars]
    deny: at_call
)");
  ASSERT_FALSE(host->call("notes", "mallory", "note", "x"));
  const std::string text = metrics->text();
  EXPECT_NE(
      text.find(
          R"(plugin_host_api_calls_total{allowed="false",function="extism:host/user tenant_note",plugin_id="notes"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(extism_plugin_calls_total{function="note",plugin="notes",status="denied"} 1)"),
      std::string::npos)
      << text;
  EXPECT_EQ(promtool_check(text, dir_), kPromtoolClean);
}

TEST_F(Host, ABlockedHostRequestIsADenialWithItsHost) {
  HostOptions options;
  auto metrics = std::make_shared<HostMetrics>();
  options.metrics = metrics;
  auto log = AuditLog::open((dir_ / "audit.jsonl").string());
  ASSERT_TRUE(log);
  options.audit = std::move(*log);
  PluginHost host(load(R"(default_tier: net
tiers:
  net:
    capabilities: [network_outbound_allowlist, log_emit]
    resource_limits:
      allowed_hosts: [example.com]
)"),
                  std::move(options));
  ASSERT_TRUE(host.add("fetcher", "1", manifest("gate_plugin")));
  // Refused before any connection: nothing is contacted.
  auto r = host.call("fetcher", "mallory", "fetch", R"({"url":"http://127.0.0.1:9/exfil"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Kind::Denied);
  EXPECT_EQ(r.error().message, "HTTP request to http://127.0.0.1:9/exfil is not allowed");
  const std::string text = metrics->text();
  EXPECT_NE(
      text.find(
          R"(extism_plugin_blocked_host_requests_total{host="127.0.0.1",plugin="fetcher"} 1)"),
      std::string::npos)
      << text;
  const auto recs = records(dir_ / "audit.jsonl");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["kind"], "host_blocked");
  EXPECT_EQ(recs[0]["target"], "127.0.0.1");
  EXPECT_EQ(recs[0]["tenant"], "mallory");
  EXPECT_EQ(recs[1]["outcome"], "denied");
  EXPECT_EQ(promtool_check(text, dir_), kPromtoolClean);
}

TEST_F(Host, EgressBytesAreCountedPerTargetHost) {
  warden::testing::HttpTestServer server;  // on 127.0.0.1, started and stopped by the test
  server.serve("/data", std::string(1000, 'x'));
  HostOptions options;
  auto metrics = std::make_shared<HostMetrics>();
  options.metrics = metrics;
  PluginHost host(load(R"(default_tier: net
tiers:
  net:
    capabilities: [network_outbound_allowlist, log_emit]
    resource_limits:
      allowed_hosts: ["127.0.0.1"]
)"),
                  std::move(options));
  ASSERT_TRUE(host.add("fetcher", "1", manifest("gate_plugin")));
  const std::string request = R"({"url":")" + server.url("/data") + R"("})";
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(ok(host.call("fetcher", "t", "fetch", request)).size(), 1000u);
  const std::string text = metrics->text();
  EXPECT_NE(text.find(R"(plugin_egress_bytes_total{plugin_id="fetcher",target="127.0.0.1"} 3000)"),
            std::string::npos)
      << text;
}

TEST_F(Host, TenantAndFunctionLabelsAreBounded) {
  HostMetrics metrics(/*max_tenants=*/3, /*max_functions=*/2);
  for (int i = 0; i < 1000; ++i) {
    const std::string tenant = "tenant-" + std::to_string(i) + "\x1b[2J";
    std::string function = std::to_string(i);
    function.insert(0, 1, 'f');  // not "f" + ...: GCC 12's -Wrestrict false positive
    metrics.call({"notes", "1", "t", tenant, function, nullptr, 1.0, 0.0, 1});
  }
  const std::string text = metrics.text();
  size_t tenants = 0;
  for (size_t at = 0; (at = text.find("extism_plugin_memory_pages_used{", at)) != std::string::npos;
       ++at)
    ++tenants;
  EXPECT_EQ(tenants, 4u) << text;  // three tenants and "_other"
  EXPECT_NE(text.find(R"(tenant="_other")"), std::string::npos);
  EXPECT_NE(text.find(R"(function="_other",plugin="notes",status="ok"} 998)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_LT(text.size(), 20000u);
}

}  // namespace
}  // namespace warden::host
