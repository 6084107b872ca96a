// PluginHost: customer plugins as a multi-tenant service, as a library. Plugins are registered
// by id and version, each admitted through the capability gate once (policy, signature, static
// audit); calls name a plugin, a tenant and a function and run on that tenant's own instance
// from the TenantPool; the embedder's host functions see the tenant and the caller's context;
// every invocation and every denial is an audit record, and in fail-closed mode no call runs
// unless its record was written. docs/host.md is the reference.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/gate.h"
#include "policy/host/audit_log.h"
#include "policy/host/host_error.h"
#include "policy/host/host_metrics.h"
#include "policy/host/kv_store.h"
#include "policy/host/tenant_pool.h"

namespace warden::host {

// What a tenant-scoped host function knows about the call it serves.
struct TenantCall {
  std::string_view plugin_id, version, tenant_id;
  const void* host_context;  // what the caller passed to PluginHost::call (may be null)
};

using TenantHostCallback =
    std::function<HostResult(extism::CurrentPlugin&, const TenantCall&, std::span<const Value> args,
                             std::span<Value> results)>;

// An embedder's host function, scoped to the tenant: a row of the host-function table like any
// PluginFunction (capability, class, roles, fuel), whose callback is told the tenant and
// context of the call, so it can reach only that tenant's data.
struct TenantFunction {
  std::string module = extism::kUserModule;
  std::string name;
  FuncType type;
  TenantHostCallback callback;
  std::string capability;  // default: the function's name
  extism::HostClass host_class = extism::HostClass::WriteGlobal;
  std::vector<extism::ArgRole> roles;
  uint32_t fuel = 10;
};

struct HostOptions {
  PoolOptions pool;
  std::vector<TenantFunction> functions;
  std::shared_ptr<AuditLog> audit;       // none: no records (and no fail-closed)
  std::shared_ptr<HostMetrics> metrics;  // none: nothing counted
  // Shared state (kv_functions.h): with a store, plugins may import "warden:kv" (granted by the
  // capabilities kv, kv_shared_read, kv_shared_write; see kv_capabilities()).
  std::shared_ptr<KvStore> kv;
  // The base of every instance's options (WASI, logging, the embedder's quota); functions given
  // here are not tenant-scoped.
  extism::PluginOptions plugin_options;
  TenantPool::Clock clock;  // default: steady_clock (tests move time by hand)
  // New instances start from a snapshot of the version's prototype taken after init (memory
  // mapped copy-on-write; no init runs again). Off: each instance is instantiated and
  // initialised afresh (also what happens when a plugin's init cannot be snapshotted).
  bool snapshots = true;
};

// A new version's trial: a share of the tenants (chosen by a hash of the tenant id, so that a
// tenant stays on one version and keeps its state) calls it; its error, timeout and quota-
// rejection rates are compared with the active version's over the same time. A canary worse
// than the active version by more than `tolerance` in any of the three is rolled back at once;
// one that is not after `window` (and `min_calls`) is promoted. Calls in flight finish on the
// instance they started on.
struct CanaryOptions {
  double share = 0.1;
  uint64_t min_calls = 50;  // canary calls before its rates are judged
  std::chrono::milliseconds window = std::chrono::minutes(5);
  double tolerance = 0.02;  // absolute, per rate
};

struct VersionTally {
  uint64_t calls = 0, errors = 0, timeouts = 0, quota_rejections = 0;
};

struct Deployment {
  std::string active;
  std::optional<std::string> canary;
  double share = 0;
  VersionTally active_tally, canary_tally;  // since the canary started
  // How the active version's instances start: from a snapshot, or (with the reason) afresh.
  bool active_from_snapshot = false;
  std::string snapshot_refusal;
};

struct CallResult {
  std::string output;
  uint64_t fuel = 0;
  uint64_t memory_pages = 0;
  double duration_ms = 0;
};

// Identifiers are bounded (they become pool keys, audit records and, later, metric labels) and
// hold no NUL; a plugin id holds no '@' (the pool's key is "id@version").
inline constexpr size_t kMaxTenantIdBytes = 256;
inline constexpr size_t kMaxPluginIdBytes = 128;  // also a version's bound

class PluginHost {
 public:
  explicit PluginHost(policy::Policy policy, HostOptions options = {});
  ~PluginHost();

  // Admits `version` of `plugin_id` through the gate and makes it the version calls use (the
  // previous version's instances go). The identity defaults to the plugin's document in the
  // policy when there is one, else to the policy's default_tier.
  Result<void, HostError> add(const std::string& plugin_id, const std::string& version,
                              const extism::Manifest& manifest,
                              std::optional<std::vector<uint8_t>> signature = std::nullopt,
                              std::optional<policy::PluginIdentity> identity = std::nullopt);

  // One call on the tenant's instance. `host_context` is handed to tenant-scoped host functions
  // during this call only.
  Result<CallResult, HostError> call(std::string_view plugin_id, std::string_view tenant_id,
                                     std::string_view function, std::span<const uint8_t> input,
                                     const void* host_context = nullptr);
  Result<CallResult, HostError> call(std::string_view plugin_id, std::string_view tenant_id,
                                     std::string_view function, std::string_view input,
                                     const void* host_context = nullptr) {
    return call(plugin_id, tenant_id, function,
                {reinterpret_cast<const uint8_t*>(input.data()), input.size()}, host_context);
  }

  // Admits `version` as a canary of the active one (which must exist).
  Result<void, HostError> add_canary(const std::string& plugin_id, const std::string& version,
                                     const extism::Manifest& manifest,
                                     std::optional<std::vector<uint8_t>> signature,
                                     CanaryOptions canary,
                                     std::optional<policy::PluginIdentity> identity = std::nullopt);
  // The canary becomes the active version, or goes; each an audit record.
  Result<void, HostError> promote(std::string_view plugin_id);
  Result<void, HostError> rollback(std::string_view plugin_id);
  // A running canary's share of tenants, changed (0..1); an audit record.
  Result<void, HostError> set_canary_share(std::string_view plugin_id, double share);
  // The plugin ids, sorted.
  std::vector<std::string> plugin_ids() const;

  std::optional<std::string> active_version(std::string_view plugin_id) const;
  std::optional<Deployment> deployment(std::string_view plugin_id) const;
  PoolStats pool_stats() const { return pool_.stats(); }
  void evict_expired() { pool_.evict_expired(); }

  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

 private:
  struct Version {
    std::string version, key, tier;
    std::shared_ptr<policy::GatedPlugin> prototype;  // admitted and verified; spawns instances
    std::shared_ptr<const extism::PluginSnapshot> snapshot;  // the prototype after init, or null
    std::string snapshot_refusal;                            // why not, when null
  };
  struct Rollout {
    Version active;
    std::optional<Version> canary;
    CanaryOptions options;
    std::chrono::steady_clock::time_point started;
    VersionTally active_tally, canary_tally;
  };
  Result<Version, HostError> admit(const std::string& plugin_id, const std::string& version,
                                   const extism::Manifest& manifest,
                                   std::optional<std::vector<uint8_t>> signature,
                                   std::optional<policy::PluginIdentity> identity);
  Result<PooledInstance, HostError> make_instance(const std::string& plugin_id,
                                                  const std::string& version,
                                                  const policy::GatedPlugin& prototype,
                                                  const extism::PluginSnapshot* snapshot) const;
  extism::PluginOptions instance_options(std::shared_ptr<TenantScope> scope) const;
  // After a call of a rollout with a canary: counts it, then rolls back or promotes when due.
  // Returns the version keys the pool must drop.
  std::vector<std::string> judge_locked(Rollout& r, std::string_view plugin_id, bool on_canary,
                                        const HostError* error);
  Result<void, HostError> end_canary(std::string_view plugin_id, bool promote);
  void audit_rollout(std::string_view plugin_id, std::string_view version, std::string_view action,
                     std::string_view reason) const;
  std::chrono::steady_clock::time_point now() const;

  policy::Policy policy_;
  HostOptions options_;
  TenantPool pool_;
  mutable std::shared_mutex registry_mutex_;
  std::map<std::string, Rollout, std::less<>> rollouts_;  // by plugin id
};

}  // namespace warden::host
