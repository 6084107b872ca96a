// Instances of admitted plugins, one per (plugin version, tenant): an instance is never shared
// between tenants, so one tenant's vars, memory and kernel state never reach another's call.
// Bounded by a count and by the host memory charged to the instances (LRU eviction of idle
// ones), idle instances expire after a TTL, and each plugin version keeps N fresh instances
// pre-warmed (instantiated, init functions run, no tenant yet) by a background thread. Calls of
// one tenant on one plugin version are serialised on its instance. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "decoder/result.h"
#include "policy/gate.h"
#include "policy/host/host_error.h"

namespace warden::host {

struct PoolOptions {
  size_t max_instances = 1024;                               // bound to tenants, across all plugins
  uint64_t max_memory_bytes = uint64_t{4} << 30;             // host memory charged to them
  std::chrono::milliseconds ttl = std::chrono::minutes(10);  // idle longer: evicted
  size_t prewarm = 0;                                        // fresh instances ready per version
};

struct PoolStats {
  size_t instances = 0;  // bound to a tenant
  size_t prewarmed = 0;
  uint64_t memory_bytes = 0;  // charged to both
  uint64_t created = 0, reused = 0, from_prewarm = 0;
  uint64_t evicted_lru = 0, evicted_memory = 0, evicted_ttl = 0;
};

// What a tenant-scoped host function reads: set when an instance is bound to a tenant, and
// per call.
struct TenantScope {
  std::string plugin_id, version, tenant_id;
  const void* host_context = nullptr;  // the caller's, for the duration of one call
};

struct PooledInstance {
  std::unique_ptr<policy::GatedPlugin> plugin;
  std::shared_ptr<TenantScope> scope;
};

class TenantPool {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Makes a fresh, warmed instance of one plugin version.
  using Factory = std::function<Result<PooledInstance, HostError>()>;

  explicit TenantPool(PoolOptions options, Clock clock = {});
  ~TenantPool();

  // A plugin version's factory (key: "id@version"); pre-warming starts.
  void add_version(const std::string& key, Factory factory);
  // Its instances go: idle ones now, busy ones when their call returns.
  void remove_version(const std::string& key);

  class Lease;
  // The tenant's instance of `key`: its own from earlier calls, else a pre-warmed one, else a
  // new one. Blocks while another call of the same tenant runs on it.
  Result<Lease, HostError> acquire(const std::string& key, std::string_view tenant);

  void evict_expired();
  PoolStats stats() const;

 private:
  struct Entry {
    std::string key, tenant;
    PooledInstance instance;
    std::mutex call_mutex;  // one call at a time on this instance
    // Guarded by the pool's mutex:
    size_t users = 0;
    bool retired = false;  // its version was removed: dropped when its last call returns
    bool in_pool = true;   // false once dropped (a call may still hold it)
    uint64_t memory = 0;
    std::chrono::steady_clock::time_point last_used;
    std::list<Entry*>::iterator lru;
  };
  struct Version {
    Factory factory;
    std::deque<PooledInstance> ready;
    size_t warming = 0;
  };
  friend class Lease;
  void release(Entry* entry);
  // Collects what to destroy (outside the lock) into `dead`.
  void drop_locked(Entry* entry, std::vector<std::shared_ptr<Entry>>& dead);
  bool evict_one_idle_locked(std::vector<std::shared_ptr<Entry>>& dead);
  void enforce_memory_locked(std::vector<std::shared_ptr<Entry>>& dead);
  void evict_expired_locked(std::chrono::steady_clock::time_point now,
                            std::vector<std::shared_ptr<Entry>>& dead);
  void warmer();

  PoolOptions options_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_warmer_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // by entry_key(key, tenant)
  std::list<Entry*> lru_;                                  // front: most recently used
  std::map<std::string, Version, std::less<>> versions_;
  uint64_t memory_ = 0;  // bound instances
  uint64_t ready_memory_ = 0;
  PoolStats counters_;
  std::thread warmer_;
};

class TenantPool::Lease {
 public:
  Lease(Lease&& other) noexcept
      : pool_(other.pool_), entry_(std::move(other.entry_)), lock_(std::move(other.lock_)) {
    other.pool_ = nullptr;
  }
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  PooledInstance& instance() { return entry_->instance; }

 private:
  friend class TenantPool;
  Lease(TenantPool* pool, std::shared_ptr<Entry> entry)
      : pool_(pool), entry_(std::move(entry)), lock_(entry_->call_mutex) {}
  TenantPool* pool_;
  std::shared_ptr<Entry> entry_;
  std::unique_lock<std::mutex> lock_;
};

}  // namespace warden::host
