#include "policy/host/plugin_host.h"

#include <time.h>

#include <chrono>
#include <mutex>

#include "decoder/untrusted_text.h"
#include "policy/host/kv_functions.h"

namespace warden::host {

std::string_view host_error_kind_name(HostError::Kind kind) {
  switch (kind) {
    case HostError::Kind::BadRequest: return "bad_request";
    case HostError::Kind::UnknownPlugin: return "unknown_plugin";
    case HostError::Kind::Admission: return "admission";
    case HostError::Kind::Denied: return "denied";
    case HostError::Kind::Quota: return "quota";
    case HostError::Kind::Timeout: return "timeout";
    case HostError::Kind::OutOfFuel: return "out_of_fuel";
    case HostError::Kind::Oom: return "oom";
    case HostError::Kind::Trap: return "trap";
    case HostError::Kind::PluginFailed: return "plugin_error";
    case HostError::Kind::PoolFull: return "pool_full";
    case HostError::Kind::Audit: return "audit";
  }
  return "unknown";
}

namespace {

// The tenant of the call running on this thread, for denial records (the gate's event sink is
// per plugin account, not per call).
thread_local const TenantScope* current_scope = nullptr;

std::string_view gate_event_kind_name(extism::GateEvent::Kind kind) {
  switch (kind) {
    case extism::GateEvent::Kind::DeniedAtLink: return "denied_at_link";
    case extism::GateEvent::Kind::DeniedAtCall: return "denied_at_call";
    case extism::GateEvent::Kind::RateLimited: return "rate_limited";
    case extism::GateEvent::Kind::ConcurrencyRefused: return "concurrency_refused";
    case extism::GateEvent::Kind::QuotaRefused: return "quota_refused";
    case extism::GateEvent::Kind::HostBlocked: return "host_blocked";
  }
  return "unknown";
}

// A failed call as the host's error kind: the gate's kind, then the plugin error's text (the
// reference runtime's messages, which hostabi keeps).
HostError classify(const policy::GateError& e) {
  using K = HostError::Kind;
  auto kind = K::PluginFailed;
  const std::string& m = e.message;
  switch (e.kind) {
    case policy::GateError::Kind::Schema:
      kind = m.starts_with("policy: input") ? K::BadRequest : K::PluginFailed;
      break;
    case policy::GateError::Kind::Denied:
      kind = m.find(" imports ") != std::string::npos ? K::Denied : K::Quota;
      break;
    case policy::GateError::Kind::Plugin:
      if (m == "timeout")
        kind = K::Timeout;
      else if (m == "plugin ran out of fuel")
        kind = K::OutOfFuel;
      else if (m == "oom" || m.starts_with("out of host memory"))
        kind = K::Oom;
      else if (m.starts_with("trap: "))
        kind = K::Trap;
      else if (m.starts_with("Function not found: "))
        kind = K::BadRequest;
      else if (m.starts_with("HTTP request to ") && m.ends_with(" is not allowed"))
        kind = K::Denied;
      break;
    default: kind = K::Admission;
  }
  return HostError{kind, e.message, e.rc};
}

double thread_cpu_seconds() {
  timespec ts{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Where a tenant falls in [0, 1): FNV-1a of its id, so that a tenant stays on one version of a
// rollout (and keeps the state its instance holds).
double tenant_fraction(std::string_view tenant) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : tenant) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 29;  // FNV's low bits mix poorly for short ids
  return static_cast<double>(h >> 11) / static_cast<double>(uint64_t{1} << 53);
}

}  // namespace

PluginHost::PluginHost(policy::Policy policy, HostOptions options)
    : policy_(std::move(policy)),
      options_(std::move(options)),
      pool_(options_.pool, options_.clock) {
  if (options_.kv)
    for (TenantFunction& f : kv_functions(options_.kv)) options_.functions.push_back(std::move(f));
}

PluginHost::~PluginHost() = default;

extism::PluginOptions PluginHost::instance_options(std::shared_ptr<TenantScope> scope) const {
  // The embedder's base, but never its grants or account: those are the admission's.
  extism::PluginOptions o = options_.plugin_options;
  o.grants.reset();
  o.account.reset();
  if (options_.audit && options_.audit->options().host_call_sample_every) {
    o.host_call_sample_every = options_.audit->options().host_call_sample_every;
    o.host_call_sink = [audit = options_.audit, scope](const extism::HostFunctionInfo& row) {
      audit->host_call({scope->plugin_id, scope->tenant_id, row.qualified_name(), row.capability,
                        extism::host_class_name(row.host_class)});
    };
  }
  for (const TenantFunction& f : options_.functions) {
    extism::PluginFunction p;
    p.module = f.module;
    p.name = f.name;
    p.type = f.type;
    p.capability = f.capability;
    p.host_class = f.host_class;
    p.roles = f.roles;
    p.fuel = f.fuel;
    // The scope belongs to this instance alone; its tenant is set when the pool binds the
    // instance, its context for each call.
    p.callback = [scope, callback = f.callback](extism::CurrentPlugin& plugin,
                                                std::span<const Value> args,
                                                std::span<Value> results) {
      const TenantCall call{scope->plugin_id, scope->version, scope->tenant_id,
                            scope->host_context};
      return callback(plugin, call, args, results);
    };
    o.functions.push_back(std::move(p));
  }
  return o;
}

Result<PooledInstance, HostError> PluginHost::make_instance(
    const std::string& plugin_id, const std::string& version, const policy::GatedPlugin& prototype,
    const extism::PluginSnapshot* snapshot) const {
  auto scope = std::make_shared<TenantScope>();
  scope->plugin_id = plugin_id;
  scope->version = version;
  auto spawned = prototype.spawn(instance_options(scope));
  if (!spawned) return Failure{classify(spawned.error())};
  // Started now (from the snapshot, else instantiated and initialised), so that a tenant's
  // first call does not pay for it.
  extism::Plugin& plugin = (*spawned)->plugin();
  if (auto ok = snapshot ? plugin.warm_from(*snapshot) : plugin.warm(); !ok)
    return Failure{classify(policy::GateError{policy::GateError::Kind::Plugin, ok.error().message,
                                              ok.error().rc, ok.error().kind})};
  return PooledInstance{std::move(*spawned), std::move(scope)};
}

Result<PluginHost::Version, HostError> PluginHost::admit(
    const std::string& plugin_id, const std::string& version, const extism::Manifest& manifest,
    std::optional<std::vector<uint8_t>> signature, std::optional<policy::PluginIdentity> identity) {
  if (plugin_id.empty() || version.empty() || plugin_id.size() > kMaxPluginIdBytes ||
      version.size() > kMaxPluginIdBytes ||
      plugin_id.find_first_of(std::string_view("@\0", 2)) != std::string::npos ||
      version.find('\0') != std::string::npos)
    return Failure{HostError{HostError::Kind::BadRequest,
                             "plugin id " + quote_untrusted(plugin_id, 200) + " and version " +
                                 quote_untrusted(version, 200) + " must be 1 to " +
                                 std::to_string(kMaxPluginIdBytes) +
                                 " bytes, without NUL (and the id without '@')"}};
  {
    std::shared_lock lock(registry_mutex_);
    if (auto it = rollouts_.find(plugin_id);
        it != rollouts_.end() && (it->second.active.version == version ||
                                  (it->second.canary && it->second.canary->version == version)))
      return Failure{HostError{HostError::Kind::BadRequest,
                               "version " + quote_untrusted(version) + " of plugin " +
                                   quote_untrusted(plugin_id) + " is already registered"}};
  }
  policy::PluginIdentity who;
  if (identity) {
    who = *identity;
  } else {
    for (const policy::PluginDocument& d : policy_.documents())
      if (d.plugin_id == plugin_id) who.plugin_id = plugin_id;
  }
  auto admission = policy_.admit(who);
  if (!admission) return Failure{HostError{HostError::Kind::Admission, admission.error().message}};
  // The gate's denials of this plugin id become audit records, with the tenant of the call.
  auto account =
      extism::PluginAccount::of(admission->plugin_id.empty() ? plugin_id : admission->plugin_id);
  if (options_.audit || options_.metrics) {
    std::shared_ptr<AuditLog> audit = options_.audit;
    std::shared_ptr<HostMetrics> metrics = options_.metrics;
    account->set_event_sink([audit, metrics, plugin_id](const extism::GateEvent& e) {
      const TenantScope* scope = current_scope;
      const std::string_view kind = gate_event_kind_name(e.kind);
      if (audit)
        audit->denial({plugin_id, scope ? std::string_view(scope->tenant_id) : std::string_view(),
                       kind, e.function, e.capability, e.message, e.target});
      if (metrics && e.kind == extism::GateEvent::Kind::HostBlocked)
        metrics->blocked_host(plugin_id, e.target);
      else if (metrics && !e.function.empty())
        metrics->denial(plugin_id, e.function, kind);
    });
  }
  // The prototype's scope has no tenant: its init (run once, for the snapshot) serves them all.
  auto prototype_scope = std::make_shared<TenantScope>();
  prototype_scope->plugin_id = plugin_id;
  prototype_scope->version = version;
  extism::PluginOptions prototype_options = instance_options(prototype_scope);
  prototype_options.account = account;
  auto prototype = policy::GatedPlugin::create(*admission, manifest, std::move(signature),
                                               std::move(prototype_options));
  if (!prototype) {
    if (options_.metrics) {
      const auto kind = prototype.error().kind;
      options_.metrics->supply_chain_violation(
          plugin_id, kind == policy::GateError::Kind::Signature ? "signature"
                     : kind == policy::GateError::Kind::Audit   ? "static_analysis"
                                                                : "policy");
    }
    HostError e = classify(prototype.error());
    if (e.kind != HostError::Kind::Oom) e.kind = HostError::Kind::Admission;
    return Failure{std::move(e)};
  }
  if (options_.metrics) {
    const extism::Quota& q = (*prototype)->plugin().quota();
    options_.metrics->limits(plugin_id, q.memory_bytes ? *q.memory_bytes / kPageSize : 0,
                             q.cpu_seconds_per_call.value_or(0));
  }
  Version v{version, plugin_id + "@" + version, admission->tier, std::move(*prototype), {}, {}};
  // The snapshot every instance starts from: the prototype after init, never called, so it holds
  // no tenant's data. A version whose init fails still registers (its calls fail as they would).
  if (!options_.snapshots) {
    v.snapshot_refusal = "snapshots are off";
  } else if (auto warmed = v.prototype->plugin().warm(); !warmed) {
    v.snapshot_refusal = "init failed: " + warmed.error().message;
  } else if (auto snap = v.prototype->plugin().snapshot(); !snap) {
    v.snapshot_refusal = snap.error().message;
  } else {
    v.snapshot = std::move(*snap);
  }
  std::shared_ptr<policy::GatedPlugin> proto = v.prototype;
  std::shared_ptr<const extism::PluginSnapshot> snap = v.snapshot;
  pool_.add_version(v.key, [this, plugin_id, version, proto, snap] {
    return make_instance(plugin_id, version, *proto, snap.get());
  });
  return v;
}

std::chrono::steady_clock::time_point PluginHost::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void PluginHost::audit_rollout(std::string_view plugin_id, std::string_view version,
                               std::string_view action, std::string_view reason) const {
  if (options_.audit) options_.audit->rollout({plugin_id, version, action, reason});
  if (options_.metrics) options_.metrics->rollout(plugin_id, action);
}

Result<void, HostError> PluginHost::add(const std::string& plugin_id, const std::string& version,
                                        const extism::Manifest& manifest,
                                        std::optional<std::vector<uint8_t>> signature,
                                        std::optional<policy::PluginIdentity> identity) {
  auto v = admit(plugin_id, version, manifest, std::move(signature), std::move(identity));
  if (!v) return Failure{v.take_error()};
  std::vector<std::string> drop;
  {
    std::unique_lock lock(registry_mutex_);
    Rollout& r = rollouts_[plugin_id];
    if (!r.active.key.empty()) drop.push_back(r.active.key);
    if (r.canary) drop.push_back(r.canary->key);
    r = Rollout{std::move(*v), std::nullopt, {}, now(), {}, {}};
  }
  for (const std::string& key : drop) pool_.remove_version(key);
  audit_rollout(plugin_id, version, "active", "added");
  return {};
}

Result<void, HostError> PluginHost::add_canary(const std::string& plugin_id,
                                               const std::string& version,
                                               const extism::Manifest& manifest,
                                               std::optional<std::vector<uint8_t>> signature,
                                               CanaryOptions canary,
                                               std::optional<policy::PluginIdentity> identity) {
  if (!(canary.share >= 0 && canary.share <= 1) || !(canary.tolerance >= 0))
    return Failure{HostError{HostError::Kind::BadRequest,
                             "a canary's share is 0..1 and its tolerance at least 0"}};
  if (!active_version(plugin_id))
    return Failure{HostError{
        HostError::Kind::UnknownPlugin,
        "no active version of plugin " + quote_untrusted(plugin_id) + " to try a canary against"}};
  auto v = admit(plugin_id, version, manifest, std::move(signature), std::move(identity));
  if (!v) return Failure{v.take_error()};
  std::vector<std::string> drop;
  {
    std::unique_lock lock(registry_mutex_);
    Rollout& r = rollouts_[plugin_id];
    if (r.canary) drop.push_back(r.canary->key);  // a canary replaces the one before it
    r.canary = std::move(*v);
    r.options = canary;
    r.started = now();
    r.active_tally = r.canary_tally = {};
  }
  for (const std::string& key : drop) pool_.remove_version(key);
  audit_rollout(plugin_id, version, "canary",
                "share " + std::to_string(canary.share) + " of tenants");
  return {};
}

Result<void, HostError> PluginHost::promote(std::string_view plugin_id) {
  return end_canary(plugin_id, /*promote=*/true);
}

Result<void, HostError> PluginHost::rollback(std::string_view plugin_id) {
  return end_canary(plugin_id, /*promote=*/false);
}

Result<void, HostError> PluginHost::set_canary_share(std::string_view plugin_id, double share) {
  if (!(share >= 0 && share <= 1))
    return Failure{HostError{HostError::Kind::BadRequest, "a canary's share is 0..1"}};
  std::string version;
  {
    std::unique_lock lock(registry_mutex_);
    auto it = rollouts_.find(plugin_id);
    if (it == rollouts_.end() || !it->second.canary)
      return Failure{HostError{HostError::Kind::UnknownPlugin,
                               "plugin " + quote_untrusted(plugin_id) + " has no canary"}};
    it->second.options.share = share;
    version = it->second.canary->version;
  }
  audit_rollout(plugin_id, version, "canary", "share " + std::to_string(share) + " of tenants");
  return {};
}

std::vector<std::string> PluginHost::plugin_ids() const {
  std::shared_lock lock(registry_mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, rollout] : rollouts_) ids.push_back(id);
  return ids;
}

Result<void, HostError> PluginHost::end_canary(std::string_view plugin_id, bool promote) {
  std::string drop, version;
  {
    std::unique_lock lock(registry_mutex_);
    auto it = rollouts_.find(plugin_id);
    if (it == rollouts_.end() || !it->second.canary)
      return Failure{HostError{HostError::Kind::UnknownPlugin,
                               "plugin " + quote_untrusted(plugin_id) + " has no canary"}};
    Rollout& r = it->second;
    version = r.canary->version;
    drop = promote ? r.active.key : r.canary->key;
    if (promote) r.active = std::move(*r.canary);
    r.canary.reset();
  }
  pool_.remove_version(drop);
  audit_rollout(plugin_id, version, promote ? "promoted" : "rolled_back", "by request");
  return {};
}

namespace {
double rate(uint64_t n, uint64_t calls) { return calls ? double(n) / double(calls) : 0; }
}  // namespace

std::vector<std::string> PluginHost::judge_locked(Rollout& r, std::string_view plugin_id,
                                                  bool on_canary, const HostError* error) {
  if (error && (error->kind == HostError::Kind::BadRequest ||
                error->kind == HostError::Kind::UnknownPlugin ||
                error->kind == HostError::Kind::PoolFull || error->kind == HostError::Kind::Audit))
    return {};  // the caller's mistakes and the host's limits say nothing of a version
  VersionTally& t = on_canary ? r.canary_tally : r.active_tally;
  ++t.calls;
  if (error) {
    switch (error->kind) {
      case HostError::Kind::Timeout: ++t.timeouts; break;
      case HostError::Kind::Quota: ++t.quota_rejections; break;
      case HostError::Kind::Denied:
      case HostError::Kind::OutOfFuel:
      case HostError::Kind::Oom:
      case HostError::Kind::Trap:
      case HostError::Kind::PluginFailed: ++t.errors; break;
      default: break;
    }
  }
  const VersionTally& c = r.canary_tally;
  const VersionTally& a = r.active_tally;
  if (c.calls < r.options.min_calls) return {};
  std::string regression;
  auto compare = [&](const char* what, uint64_t cn, uint64_t an) {
    const double cr = rate(cn, c.calls), ar = rate(an, a.calls);
    if (regression.empty() && cr > ar + r.options.tolerance)
      regression = std::string(what) + " rate " + std::to_string(cr) + " against " +
                   std::to_string(ar) + " of version " + r.active.version + " (" +
                   std::to_string(c.calls) + " and " + std::to_string(a.calls) + " calls)";
  };
  compare("error", c.errors, a.errors);
  compare("timeout", c.timeouts, a.timeouts);
  compare("quota rejection", c.quota_rejections, a.quota_rejections);
  std::vector<std::string> drop;
  if (!regression.empty()) {
    drop.push_back(r.canary->key);
    audit_rollout(plugin_id, r.canary->version, "rolled_back", regression);
    r.canary.reset();
  } else if (now() - r.started >= r.options.window) {
    drop.push_back(r.active.key);
    audit_rollout(plugin_id, r.canary->version, "promoted",
                  "no regression in " + std::to_string(c.calls) + " calls");
    r.active = std::move(*r.canary);
    r.canary.reset();
  }
  return drop;
}

std::optional<std::string> PluginHost::active_version(std::string_view plugin_id) const {
  std::shared_lock lock(registry_mutex_);
  auto it = rollouts_.find(plugin_id);
  if (it == rollouts_.end()) return std::nullopt;
  return it->second.active.version;
}

std::optional<Deployment> PluginHost::deployment(std::string_view plugin_id) const {
  std::shared_lock lock(registry_mutex_);
  auto it = rollouts_.find(plugin_id);
  if (it == rollouts_.end()) return std::nullopt;
  const Rollout& r = it->second;
  Deployment d;
  d.active = r.active.version;
  if (r.canary) d.canary = r.canary->version;
  d.share = r.canary ? r.options.share : 0;
  d.active_tally = r.active_tally;
  d.canary_tally = r.canary_tally;
  d.active_from_snapshot = r.active.snapshot != nullptr;
  d.snapshot_refusal = r.active.snapshot_refusal;
  return d;
}

Result<CallResult, HostError> PluginHost::call(std::string_view plugin_id,
                                               std::string_view tenant_id,
                                               std::string_view function,
                                               std::span<const uint8_t> input,
                                               const void* host_context) {
  if (tenant_id.empty())
    return Failure{HostError{HostError::Kind::BadRequest, "a call needs a tenant id"}};
  if (tenant_id.size() > kMaxTenantIdBytes || tenant_id.find('\0') != std::string_view::npos)
    return Failure{HostError{HostError::Kind::BadRequest,
                             "tenant id " + quote_untrusted(tenant_id, 64) + " (" +
                                 std::to_string(tenant_id.size()) + " bytes) must be at most " +
                                 std::to_string(kMaxTenantIdBytes) + " bytes, without NUL"}};
  std::string key, version, tier;
  bool on_canary = false, judged = false;
  {
    std::shared_lock lock(registry_mutex_);
    auto it = rollouts_.find(plugin_id);
    if (it == rollouts_.end())
      return Failure{
          HostError{HostError::Kind::UnknownPlugin, "no plugin " + quote_untrusted(plugin_id)}};
    const Rollout& r = it->second;
    judged = r.canary.has_value();
    on_canary = judged && tenant_fraction(tenant_id) < r.options.share;
    const Version& v = on_canary ? *r.canary : r.active;
    key = v.key;
    version = v.version;
    tier = v.tier;
  }
  // With a canary running, every outcome counts for its version's tally (the judgement may
  // promote or roll back: the versions it drops go after the locks are released).
  auto judge = [&](const HostError* error) {
    if (!judged) return;
    std::vector<std::string> drop;
    {
      std::unique_lock lock(registry_mutex_);
      auto it = rollouts_.find(plugin_id);
      if (it == rollouts_.end() || !it->second.canary) return;
      const Rollout& r = it->second;
      if ((on_canary ? r.canary->key : r.active.key) != key) return;  // judged already
      drop = judge_locked(it->second, plugin_id, on_canary, error);
    }
    for (const std::string& k : drop) pool_.remove_version(k);
  };
  AuditLog* audit = options_.audit.get();
  InvocationRecord record{plugin_id, version, tenant_id, function, "started", "", 0, 0, 0};
  // Fail-closed: the first record is written before anything runs, or nothing runs.
  if (audit && audit->fail_closed() && !audit->invocation(record))
    return Failure{
        HostError{HostError::Kind::Audit, "the audit log " + escape_untrusted(audit->path()) +
                                              " cannot be written (fail-closed): call refused"}};

  const auto start = std::chrono::steady_clock::now();
  double cpu_seconds = 0;
  auto finish = [&](const HostError* error, CallResult& result) -> std::optional<HostError> {
    judge(error);
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (options_.metrics) {
      // A function the plugin does not have is one label, whatever its name.
      const bool unknown = error && error->message.starts_with("Function not found: ");
      options_.metrics->call({plugin_id, version, tier, tenant_id,
                              unknown ? std::string_view("_unknown") : function, error,
                              result.duration_ms, cpu_seconds, result.memory_pages});
    }
    if (!audit) return std::nullopt;
    record.outcome = error ? host_error_kind_name(error->kind) : "ok";
    record.message = error ? std::string_view(error->message) : std::string_view();
    record.duration_ms = result.duration_ms;
    record.fuel = result.fuel;
    record.memory_pages = result.memory_pages;
    if (!audit->invocation(record) && audit->fail_closed())
      return HostError{HostError::Kind::Audit,
                       "the audit log " + escape_untrusted(audit->path()) +
                           " cannot be written (fail-closed): the call's result is withheld"};
    return std::nullopt;
  };

  CallResult result;
  auto lease = pool_.acquire(key, tenant_id);
  if (!lease) {
    HostError e = lease.take_error();
    if (auto audit_error = finish(&e, result)) return Failure{std::move(*audit_error)};
    return Failure{std::move(e)};
  }
  PooledInstance& instance = lease->instance();
  instance.scope->host_context = host_context;
  current_scope = instance.scope.get();
  const double cpu_start = thread_cpu_seconds();
  auto output = instance.plugin->call(function, input);
  cpu_seconds = thread_cpu_seconds() - cpu_start;
  current_scope = nullptr;
  instance.scope->host_context = nullptr;
  result.fuel = instance.plugin->plugin().fuel_used();
  if (options_.metrics) {
    for (const auto& [host, bytes] : instance.plugin->plugin().egress_by_host())
      options_.metrics->egress(plugin_id, host, bytes);
    instance.plugin->plugin().report_host_calls(
        [&](const extism::HostFunctionInfo& row, uint64_t calls, uint64_t errors) {
          options_.metrics->host_calls(plugin_id, row.qualified_name(), calls, errors);
        });
  }
  result.memory_pages = instance.plugin->plugin().memory_pages();
  if (!output) {
    HostError e = classify(output.error());
    if (auto audit_error = finish(&e, result)) return Failure{std::move(*audit_error)};
    return Failure{std::move(e)};
  }
  result.output.assign(output->begin(), output->end());
  if (auto audit_error = finish(nullptr, result)) return Failure{std::move(*audit_error)};
  return result;
}

}  // namespace warden::host
