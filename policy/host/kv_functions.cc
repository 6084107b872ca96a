#include "policy/host/kv_functions.h"

namespace warden::host {

std::vector<std::string> kv_capabilities() {
  return {kKvCapability, kKvSharedReadCapability, kKvSharedWriteCapability};
}

std::string tenant_namespace(std::string_view plugin_id, std::string_view tenant_id) {
  std::string ns = "t";
  ns += '\0';
  ns += plugin_id;
  ns += '\0';
  ns += tenant_id;
  return ns;
}

std::string shared_namespace(std::string_view plugin_id) {
  std::string ns = "s";
  ns += '\0';
  ns += plugin_id;
  return ns;
}

namespace {

using Namespace = std::string (*)(const TenantCall&);
std::string own(const TenantCall& c) { return tenant_namespace(c.plugin_id, c.tenant_id); }
std::string shared(const TenantCall& c) { return shared_namespace(c.plugin_id); }

TenantFunction row(const char* name, FuncType type, const char* capability,
                   extism::HostClass host_class, std::vector<extism::ArgRole> roles,
                   TenantHostCallback callback) {
  TenantFunction f;
  f.module = kKvModule;
  f.name = name;
  f.type = std::move(type);
  f.capability = capability;
  f.host_class = host_class;
  f.roles = std::move(roles);
  f.fuel = 100;  // a store round trip
  f.callback = std::move(callback);
  return f;
}

TenantHostCallback getter(std::shared_ptr<KvStore> store, Namespace ns) {
  return [store, ns](extism::CurrentPlugin& plugin, const TenantCall& call,
                     std::span<const Value> args, std::span<Value> results) -> HostResult {
    auto value = store->get(ns(call), plugin.text(args[0].as_i64()));
    if (!value) return extism::CurrentPlugin::fail(value.error().message);
    uint64_t handle = 0;
    if (*value) {
      handle = plugin.alloc_copy(**value);
      if (handle == 0 && !(*value)->empty()) return extism::CurrentPlugin::fail("oom");
    }
    results[0] = Value::i64(static_cast<int64_t>(handle));
    return {};
  };
}

TenantHostCallback setter(std::shared_ptr<KvStore> store, Namespace ns) {
  return [store, ns](extism::CurrentPlugin& plugin, const TenantCall& call,
                     std::span<const Value> args, std::span<Value> results) -> HostResult {
    auto done = store->set(ns(call), plugin.text(args[0].as_i64()), plugin.text(args[1].as_i64()));
    int32_t status = 0;
    if (!done) {
      switch (done.error().kind) {
        case KvError::Kind::Quota: status = 1; break;
        case KvError::Kind::TooLarge: status = 2; break;
        case KvError::Kind::Backend: return extism::CurrentPlugin::fail(done.error().message);
      }
    }
    results[0] = Value::i32(status);
    return {};
  };
}

}  // namespace

std::vector<TenantFunction> kv_functions(std::shared_ptr<KvStore> store) {
  using extism::HostClass;
  namespace roles = extism::roles;
  const FuncType get_type{{ValType::I64}, {ValType::I64}};
  const FuncType set_type{{ValType::I64, ValType::I64}, {ValType::I32}};
  const FuncType delete_type{{ValType::I64}, {ValType::I32}};
  std::vector<TenantFunction> rows;
  rows.push_back(row("get", get_type, kKvCapability, HostClass::ReadSensitive, {roles::Handle},
                     getter(store, own)));
  rows.push_back(row("set", set_type, kKvCapability, HostClass::WriteLocal,
                     {roles::Handle, roles::Handle}, setter(store, own)));
  rows.push_back(row("delete", delete_type, kKvCapability, HostClass::WriteLocal, {roles::Handle},
                     [store](extism::CurrentPlugin& plugin, const TenantCall& call,
                             std::span<const Value> args, std::span<Value> results) -> HostResult {
                       auto erased = store->erase(own(call), plugin.text(args[0].as_i64()));
                       if (!erased) return extism::CurrentPlugin::fail(erased.error().message);
                       results[0] = Value::i32(*erased ? 1 : 0);
                       return {};
                     }));
  rows.push_back(row("shared_get", get_type, kKvSharedReadCapability, HostClass::ReadSensitive,
                     {roles::Handle}, getter(store, shared)));
  rows.push_back(row("shared_set", set_type, kKvSharedWriteCapability, HostClass::WriteGlobal,
                     {roles::Handle, roles::Handle}, setter(store, shared)));
  return rows;
}

}  // namespace warden::host
