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
  std::shared_ptr<AuditLog> audit;  // none: no records (and no fail-closed)
  // The base of every instance's options (WASI, logging, the embedder's quota); functions given
  // here are not tenant-scoped.
  extism::PluginOptions plugin_options;
  TenantPool::Clock clock;  // default: steady_clock (tests move time by hand)
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

  std::optional<std::string> active_version(std::string_view plugin_id) const;
  PoolStats pool_stats() const { return pool_.stats(); }
  void evict_expired() { pool_.evict_expired(); }

  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

 private:
  struct Version {
    std::string version, key;
    std::shared_ptr<policy::GatedPlugin> prototype;  // admitted and verified; spawns instances
  };
  Result<PooledInstance, HostError> make_instance(const std::string& plugin_id,
                                                  const std::string& version,
                                                  const policy::GatedPlugin& prototype) const;
  extism::PluginOptions instance_options(std::shared_ptr<TenantScope> scope) const;

  policy::Policy policy_;
  HostOptions options_;
  TenantPool pool_;
  mutable std::shared_mutex registry_mutex_;
  std::map<std::string, Version, std::less<>> active_;
};

}  // namespace warden::host
