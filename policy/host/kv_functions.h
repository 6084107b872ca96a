// The key-value host API for plugins: import module "warden:kv" (Extism's own imports are
// unchanged). Each function is a TenantFunction row with its own capability, so a tier grants
// tenant state and the plugin-wide shared namespace separately. docs/host.md documents the API.
//
//   get(key) -> value | 0           the calling tenant's namespace      capability kv
//   set(key, value) -> status       (status: 0 done, 1 over the quota, 2 too large)
//   delete(key) -> 1 | 0
//   shared_get(key) -> value | 0    the plugin's namespace shared by    kv_shared_read
//   shared_set(key, value) -> status  all its tenants                   kv_shared_write
//
// Keys and values are kernel blocks (handles). A backend failure fails the call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policy/host/kv_store.h"
#include "policy/host/plugin_host.h"

namespace warden::host {

inline constexpr const char* kKvModule = "warden:kv";
inline constexpr const char* kKvCapability = "kv";
inline constexpr const char* kKvSharedReadCapability = "kv_shared_read";
inline constexpr const char* kKvSharedWriteCapability = "kv_shared_write";

// The capability names, for policy::LoadOptions::extra_capabilities.
std::vector<std::string> kv_capabilities();

std::vector<TenantFunction> kv_functions(std::shared_ptr<KvStore> store);

// The namespaces: a tenant's own, and its plugin's shared one (ids hold no NUL).
std::string tenant_namespace(std::string_view plugin_id, std::string_view tenant_id);
std::string shared_namespace(std::string_view plugin_id);

}  // namespace warden::host
