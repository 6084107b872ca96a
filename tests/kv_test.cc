// Shared state for plugins (policy/host/kv_store.h, kv_functions.h): each backend (SQLite, and
// Redis against a real redis-server each test starts on 127.0.0.1 and stops) on its own (sizes
// checked before writing, quotas, persistence), and the "warden:kv" API through PluginHost with
// tests/testdata/host_kv.wat: tenants' namespaces apart and outliving their instances, the
// shared namespace only where the tier grants it. A missing redis-server fails the tests.
#include <gtest/gtest.h>

#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "policy/host/kv_functions.h"
#include "policy/host/plugin_host.h"
#include "test_guest.h"

namespace warden::host {
namespace {

namespace fs = std::filesystem;

// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

// redis-server on 127.0.0.1, in the foreground, nothing saved; stopped by the destructor.
class RedisServer {
 public:
  explicit RedisServer(const fs::path& dir) : port_(free_port()) { start(dir); }
  ~RedisServer() { stop(); }
  void start(const fs::path& dir) {
    const std::string port = std::to_string(port_), d = dir.string(),
                      log = (dir / "redis.log").string();
    const char* argv[] = {"redis-server", "--port",    port.c_str(),   "--bind", "127.0.0.1",
                          "--save",       "",          "--appendonly", "no",     "--dir",
                          d.c_str(),      "--logfile", log.c_str(),    nullptr};
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, const_cast<char**>(argv),
                       environ) != 0) {
      pid_ = -1;
      ADD_FAILURE() << "cannot start redis-server (install Debian's redis-server)";
      return;
    }
    for (int i = 0; i < 200; ++i) {  // until it answers
      if (open_redis_store("127.0.0.1", port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "redis-server did not start on port " << port_;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

class Kv : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = fs::temp_directory_path() / ("warden-kv-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (GetParam() == "redis") redis_ = std::make_unique<RedisServer>(dir_);
  }
  void TearDown() override {
    redis_.reset();
    fs::remove_all(dir_);
  }

  std::shared_ptr<KvStore> store(KvLimits limits = {}) {
    auto s = GetParam() == "redis" ? open_redis_store("127.0.0.1", redis_->port(), limits)
                                   : open_sqlite_store((dir_ / "state.db").string(), limits);
    if (!s) {
      ADD_FAILURE() << s.error().message;
      throw std::runtime_error("store");
    }
    return std::move(*s);
  }
  policy::Policy load(const std::string& capabilities, const std::string& deny = "at_link") {
    const fs::path path = dir_ / "policy.yaml";
    std::ofstream(path) << "default_tier: t\ntiers:\n  t:\n    capabilities: [" << capabilities
                        << "]\n    deny: " << deny << "\n";
    policy::LoadOptions options;
    options.extra_capabilities = kv_capabilities();
    auto p = policy::Policy::load(path.string(), options);
    if (!p) {
      for (const auto& e : p.error()) ADD_FAILURE() << e.text();
      throw std::runtime_error("policy");
    }
    return std::move(*p);
  }
  static extism::Manifest manifest() {
    extism::Manifest m;
    extism::WasmSource s;
    s.data = test::guest_bytes("host_kv");
    m.wasm.push_back(std::move(s));
    return m;
  }
  std::unique_ptr<PluginHost> host(std::shared_ptr<KvStore> kv,
                                   const std::string& capabilities =
                                       "kv, kv_shared_read, "
                                       "kv_shared_write",
                                   const std::string& deny = "at_link", HostOptions options = {}) {
    options.kv = std::move(kv);
    auto h = std::make_unique<PluginHost>(load(capabilities, deny), std::move(options));
    auto added = h->add("state", "1", manifest());
    EXPECT_TRUE(added) << added.error().message;
    return h;
  }
  static std::string ok(Result<CallResult, HostError> r) {
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->output : "<error>";
  }

  fs::path dir_;
  std::unique_ptr<RedisServer> redis_;
};
INSTANTIATE_TEST_SUITE_P(Backends, Kv, ::testing::Values("sqlite", "redis"),
                         [](const auto& info) { return info.param; });

TEST_P(Kv, StoreKeepsNamespacesApartAndPersists) {
  {
    auto s = store();
    ASSERT_TRUE(s->set("a", "key", "one"));
    ASSERT_TRUE(s->set("b", "key", std::string("two\0bytes", 9)));
    EXPECT_EQ(s->get("a", "key")->value(), "one");
    EXPECT_EQ(s->get("b", "key")->value(), std::string("two\0bytes", 9));
    EXPECT_FALSE(s->get("c", "key")->has_value());
    ASSERT_TRUE(s->set("a", "key", ""));  // an empty value is a value
    EXPECT_EQ(s->get("a", "key")->value(), "");
    EXPECT_EQ(*s->namespace_bytes("b"), 3u + 9u);
    EXPECT_TRUE(*s->erase("b", "key"));
    EXPECT_FALSE(*s->erase("b", "key"));
    EXPECT_EQ(*s->namespace_bytes("b"), 0u);
  }
  auto reopened = store();
  EXPECT_EQ(reopened->get("a", "key")->value(), "");
  EXPECT_EQ(*reopened->namespace_bytes("a"), 3u);
}

TEST_P(Kv, SizesAndQuotasAreCheckedBeforeAnythingIsWritten) {
  auto s = store({.max_key_bytes = 8, .max_value_bytes = 64, .max_namespace_bytes = 100});
  ASSERT_TRUE(s->set("n", "k1", std::string(60, 'a')));  // 62 bytes
  auto over = s->set("n", "k2", std::string(40, 'b'));   // 62 + 42 > 100
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, KvError::Kind::Quota);
  EXPECT_NE(over.error().message.find("would hold 104 bytes; its quota is 100"), std::string::npos)
      << over.error().message;
  EXPECT_FALSE(s->get("n", "k2")->has_value());
  // Replacing a value counts the new size, not both.
  EXPECT_TRUE(s->set("n", "k1", std::string(64, 'c')));
  EXPECT_EQ(*s->namespace_bytes("n"), 66u);
  auto big = s->set("n", "k3", std::string(65, 'd'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, KvError::Kind::TooLarge);
  auto long_key = s->set("n", "123456789", "v");
  ASSERT_FALSE(long_key);
  EXPECT_EQ(long_key.error().kind, KvError::Kind::TooLarge);
  EXPECT_FALSE(s->set("n", "", "v"));
  EXPECT_EQ(*s->namespace_bytes("n"), 66u);
}

TEST_P(Kv, AnUnusableBackendIsAnErrorNamingIt) {
  if (GetParam() == "redis") {
    auto closed = open_redis_store("127.0.0.1", free_port());
    ASSERT_FALSE(closed);
    EXPECT_EQ(closed.error().kind, KvError::Kind::Backend);
    EXPECT_NE(closed.error().message.find("kv (redis): 127.0.0.1:"), std::string::npos)
        << closed.error().message;
    // A server that goes away fails the calls; once it is back, the store reconnects.
    auto s = store();
    ASSERT_TRUE(s->set("n", "k", "v"));
    redis_->stop();
    auto lost = s->get("n", "k");
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().kind, KvError::Kind::Backend);
    redis_->start(dir_);
    EXPECT_TRUE(s->set("n", "k", "again"));
    EXPECT_EQ(s->get("n", "k")->value(), "again");
    return;
  }
  auto s = open_sqlite_store((dir_ / "no-such-dir" / "state.db").string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, KvError::Kind::Backend);
  EXPECT_NE(s.error().message.find("no-such-dir"), std::string::npos) << s.error().message;
  std::ofstream(dir_ / "not-a-db") << "this is not an SQLite database, it is text\n";
  auto garbage = open_sqlite_store((dir_ / "not-a-db").string());
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("not-a-db"), std::string::npos);
}

TEST_P(Kv, EachTenantHasItsOwnNamespaceAndItOutlivesTheInstance) {
  auto now = std::chrono::steady_clock::now();
  HostOptions options;
  options.pool.ttl = std::chrono::seconds(10);
  options.clock = [&now] { return now; };
  auto kv = store();
  {
    auto h = host(kv, "kv, kv_shared_read, kv_shared_write", "at_link", std::move(options));
    EXPECT_EQ(ok(h->call("state", "alice", "put", "alice-secret")), "0");
    EXPECT_EQ(ok(h->call("state", "bob", "get", "")), "");
    EXPECT_EQ(ok(h->call("state", "alice", "get", "")), "alice-secret");
    now += std::chrono::seconds(11);
    h->evict_expired();
    ASSERT_EQ(h->pool_stats().instances, 0u);
    EXPECT_EQ(ok(h->call("state", "alice", "get", "")), "alice-secret");  // a new instance
    EXPECT_EQ(ok(h->call("state", "bob", "del", "")), "0");
    EXPECT_EQ(ok(h->call("state", "alice", "get", "")), "alice-secret");
  }
  auto restarted = host(kv);  // another host on the same store
  EXPECT_EQ(ok(restarted->call("state", "alice", "get", "")), "alice-secret");
  EXPECT_EQ(ok(restarted->call("state", "alice", "del", "")), "1");
  EXPECT_EQ(ok(restarted->call("state", "alice", "get", "")), "");
}

TEST_P(Kv, TheSharedNamespaceIsSharedOnlyWhereTheTierGrantsIt) {
  auto kv = store();
  {
    auto h = host(kv);
    EXPECT_EQ(ok(h->call("state", "alice", "sput", "for-everyone")), "0");
    EXPECT_EQ(ok(h->call("state", "bob", "sget", "")), "for-everyone");
    EXPECT_EQ(ok(h->call("state", "bob", "get", "")), "");  // bob's own is still empty
  }
  // A tier with tenant state only: the plugin imports the shared functions, so it is refused
  // at link, naming the first of them and its capability.
  HostOptions with_kv;
  with_kv.kv = kv;
  PluginHost strict(load("kv"), std::move(with_kv));
  auto refused = strict.add("state", "1", manifest());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("warden:kv shared_get, which needs kv_shared_read"),
            std::string::npos)
      << refused.error().message;
  // Under deny: at_call it links, and only the shared calls fail.
  auto lenient = host(kv, "kv", "at_call");
  EXPECT_EQ(ok(lenient->call("state", "carol", "put", "c")), "0");
  auto shared = lenient->call("state", "carol", "sget", "");
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().kind, HostError::Kind::Denied);
}

TEST_P(Kv, QuotaAndSizeRefusalsAreStatusesThePluginSees) {
  auto h = host(store({.max_key_bytes = 16, .max_value_bytes = 100, .max_namespace_bytes = 50}));
  EXPECT_EQ(ok(h->call("state", "alice", "put", std::string(40, 'a'))), "0");
  EXPECT_EQ(ok(h->call("state", "alice", "put", std::string(60, 'b'))), "1");   // over the quota
  EXPECT_EQ(ok(h->call("state", "alice", "get", "")), std::string(40, 'a'));    // unchanged
  EXPECT_EQ(ok(h->call("state", "alice", "put", std::string(101, 'c'))), "2");  // too large
  EXPECT_EQ(ok(h->call("state", "bob", "put", std::string(49, 'd'))), "0");     // bob's own quota
}

TEST_P(Kv, ConcurrentTenantsKeepTheirOwnValues) {
  auto h = host(store());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      const std::string tenant = "tenant-" + std::to_string(t);
      for (int i = 0; i < 30; ++i) {
        const std::string value = tenant + "-" + std::to_string(i);
        auto put = h->call("state", tenant, "put", value);
        auto got = h->call("state", tenant, "get", "");
        if (!put || put->output != "0" || !got || got->output != value) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace warden::host
