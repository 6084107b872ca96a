#include "hostabi/host_link.h"

#include <algorithm>

#include "decoder/untrusted_text.h"
#include "hostabi/kernel.h"
#include "vm/store.h"

namespace warden::extism {
namespace {

using Args = std::span<const Value>;
using Results = std::span<Value>;

constexpr uint32_t kWasiEfault = 21;
constexpr uint32_t kWasiEnosys = 52;

ExecError call_error(std::string message) {
  ExecError e;
  e.kind = ExecError::Kind::Trap;
  e.trap = TrapCode::HostError;
  e.detail = std::move(message);
  return e;
}

// "`module::name`", escaped: import names are the plugin's bytes.
std::string import_text(const Import& import) {
  std::string where = "`";
  where.append(escape_untrusted(import.module)).append("::");
  where.append(escape_untrusted(import.name)).append("`");
  return where;
}

// True when every Memory argument lies inside the caller's memory 0 (in 64 bits: nothing wraps).
bool memory_args_in_bounds(const std::vector<ArgRole>& roles, CallContext& ctx, Args a) {
  const Memory* memory = ctx.memory();
  const uint64_t size = memory ? memory->size() : 0;
  for (size_t i = 0; i < roles.size() && i < a.size(); ++i) {
    const ArgRole& role = roles[i];
    if (!role.is_memory()) continue;
    const uint64_t address = static_cast<uint32_t>(a[i].bits);
    uint64_t length = role.unit;
    if (role.count_arg >= 0) {
      if (static_cast<size_t>(role.count_arg) >= a.size()) return false;
      length *= static_cast<uint32_t>(a[role.count_arg].bits);
    }
    if (!memory || address > size || length > size - address) return false;
  }
  return true;
}

[[gnu::noinline, gnu::cold]] HostResult out_of_fuel() {
  ExecError e;
  e.kind = ExecError::Kind::OutOfFuel;
  return Failure{std::move(e)};
}

std::string format_rate(double rate) {
  std::string s = std::to_string(rate);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The gate of a row that needs nothing checked per call (the kernel's): fuel, the count, the
// function. Small, so that it costs next to nothing on the hot path of host-call-heavy plugins.
struct Metered {
  HostImpl::Fn fn;
  void* state;
  uint32_t fuel;
  bool metered;
  HostCallStats* stats;
  HostRowCount* count;

  HostResult operator()(CallContext& ctx, Args a, Results r) const {
    if (metered && !ctx.store.consume_fuel(fuel)) return out_of_fuel();
    if (!stats) return fn(state, ctx, a, r);
    ++stats->host_calls;
    ++count->calls;
    HostResult result = fn(state, ctx, a, r);
    if (!result) ++count->errors;
    return result;
  }
};

// The gate of a row with checks: the host-call rate, the argument roles (pointers inside the
// caller's memory, an embedder's handles naming live blocks). The checks live out of line.
struct Checked {
  const HostFunctionInfo* row = nullptr;
  HostImpl impl;
  bool metered = false;
  bool check_memory = false;   // some argument has a Memory role
  bool wasi_errno = false;     // a failed check answers EFAULT (WASI) instead of failing the call
  bool check_handles = false;  // an embedder's Handle arguments must name live blocks
  double rate = 0;             // host_calls_per_second for the row's capability (0: none)
  std::shared_ptr<PluginAccount> account;
  HostCallStats* stats = nullptr;
  HostRowCount* count = nullptr;  // set with stats
  Kernel* kernel = nullptr;
  uint32_t sample_every = 0;
  const HostCallSink* sample_sink = nullptr;

  HostResult operator()(CallContext& ctx, Args a, Results r) const {
    if (metered && !ctx.store.consume_fuel(row->fuel)) return out_of_fuel();
    if (stats) ++stats->host_calls;
    HostResult refused;
    if (!admit(ctx, a, r, refused)) return refused;
    if (sample_every && stats && stats->host_calls % sample_every == 0) (*sample_sink)(*row);
    HostResult result = impl.fn ? impl.fn(impl.state, ctx, a, r) : impl.callback(ctx, a, r);
    if (count) {
      ++count->calls;
      if (!result) ++count->errors;
    }
    return result;
  }

  // False when the body must not run; `out` is then the call's result (an error, or success
  // with EFAULT in r[0]).
  [[gnu::noinline]] bool admit(CallContext& ctx, Args a, Results r, HostResult& out) const {
    if (rate > 0 && account && !account->take_host_call_token(row->capability, rate)) {
      std::string message = "policy: " + row->qualified_name() + " is over its quota of " +
                            format_rate(rate) + " calls per second for " + row->capability +
                            " (host_calls_per_second)";
      account->record({GateEvent::Kind::RateLimited, account->plugin_id(), row->qualified_name(),
                       row->capability, message});
      out = Failure{call_error(std::move(message))};
      return false;
    }
    if (check_memory && !memory_args_in_bounds(row->roles, ctx, a)) {
      if (wasi_errno) {
        r[0] = Value::i32(static_cast<int32_t>(kWasiEfault));
        return false;
      }
      out = Failure{call_error(row->qualified_name() +
                               ": a pointer argument is out of bounds of the plugin's memory")};
      return false;
    }
    if (check_handles && kernel) {
      for (size_t i = 0; i < row->roles.size() && i < a.size(); ++i) {
        if (row->roles[i].kind != ArgRole::Kind::Handle || a[i].bits == 0) continue;
        if (kernel->region.length(a[i].bits) == 0) {
          out = Failure{call_error(row->qualified_name() + ": argument " + std::to_string(i) +
                                   " is not a live kernel block")};
          return false;
        }
      }
    }
    return true;
  }
};

HostImpl enosys() {
  HostImpl impl;
  impl.fn = [](void*, CallContext&, Args, Results r) -> HostResult {
    if (!r.empty()) r[0] = Value::i32(static_cast<int32_t>(kWasiEnosys));
    return {};
  };
  return impl;
}

HostCallback gated(const HostFunctionInfo& row, const HostImpl* impl, const LinkContext& context) {
  Checked g;
  g.row = &row;
  g.impl = impl ? *impl : enosys();
  g.metered = context.metered;
  g.check_memory = std::any_of(row.roles.begin(), row.roles.end(),
                               [](const ArgRole& role) { return role.is_memory(); });
  g.wasi_errno = row.module == kWasiModule || row.module == kWasiUnstableModule;
  g.check_handles = !is_builtin_module(row.module) && context.kernel &&
                    std::any_of(row.roles.begin(), row.roles.end(), [](const ArgRole& role) {
                      return role.kind == ArgRole::Kind::Handle;
                    });
  g.account = context.account;
  g.stats = context.stats;
  if (g.stats) g.count = g.stats->count_for(row);
  g.kernel = context.kernel;
  if (context.sample_every && context.sample_sink && context.stats) {
    g.sample_every = context.sample_every;
    g.sample_sink = context.sample_sink;
  }
  if (context.host_calls_per_second)
    if (auto it = context.host_calls_per_second->find(row.capability);
        it != context.host_calls_per_second->end())
      g.rate = it->second;
  if (!g.check_memory && !g.check_handles && g.rate <= 0 && g.impl.fn && !g.sample_every)
    return Metered{g.impl.fn, g.impl.state, row.fuel, g.metered, g.stats, g.count};
  return g;
}

// A denied import under `deny: at_call`: it links, and every call fails with the denial.
HostCallback denied_at_call(const HostFunctionInfo& row, const Grants& grants,
                            std::shared_ptr<PluginAccount> account) {
  return [message = grants.denial(row), account, function = row.qualified_name(),
          capability = row.capability](CallContext&, Args, Results) -> HostResult {
    if (account)
      account->record(
          {GateEvent::Kind::DeniedAtCall, account->plugin_id(), function, capability, message});
    return Failure{call_error(message)};
  };
}

}  // namespace

void HostImpls::add(std::string_view module, std::string_view name, HostImpl impl) {
  impls_[{std::string(module), std::string(name)}] = std::move(impl);
}

const HostImpl* HostImpls::find(std::string_view module, std::string_view name) const {
  auto it = impls_.find(std::make_pair(std::string(module), std::string(name)));
  return it == impls_.end() ? nullptr : &it->second;
}

bool Grants::allows(std::string_view capability) const {
  if (!capabilities || capability == capability::kMemoryOnly) return true;
  return capabilities->contains(capability);
}

std::string Grants::denial(const HostFunctionInfo& row) const {
  std::string who = plugin_id.empty() ? "the plugin" : "plugin " + quote_untrusted(plugin_id);
  if (!tier.empty()) who += " (" + escape_untrusted(tier) + ")";
  return "policy: " + who + " imports " + escape_untrusted(row.module) + " " +
         escape_untrusted(row.name) + ", which needs " + escape_untrusted(row.capability);
}

void PluginAccount::record(GateEvent event) {
  switch (event.kind) {
    case GateEvent::Kind::DeniedAtLink:
      denied_at_link.fetch_add(1, std::memory_order_relaxed);
      break;
    case GateEvent::Kind::DeniedAtCall:
      denied_at_call.fetch_add(1, std::memory_order_relaxed);
      break;
    case GateEvent::Kind::RateLimited:
      host_calls_rate_limited.fetch_add(1, std::memory_order_relaxed);
      break;
    case GateEvent::Kind::ConcurrencyRefused:
      calls_refused_concurrency.fetch_add(1, std::memory_order_relaxed);
      break;
    case GateEvent::Kind::QuotaRefused:
      quota_refusals.fetch_add(1, std::memory_order_relaxed);
      break;
    case GateEvent::Kind::HostBlocked: hosts_blocked.fetch_add(1, std::memory_order_relaxed); break;
  }
  GateEventSink sink;
  {
    std::lock_guard lock(mutex_);
    sink = sink_;
  }
  if (sink) sink(event);  // outside the lock: a sink may take its time
}

void PluginAccount::set_event_sink(GateEventSink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

std::shared_ptr<PluginAccount> PluginAccount::of(const std::string& plugin_id) {
  if (plugin_id.empty()) return std::make_shared<PluginAccount>();
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<PluginAccount>> accounts;
  std::lock_guard lock(mutex);
  for (auto it = accounts.begin(); it != accounts.end();)  // forget the plugins that are gone
    it = it->second.expired() ? accounts.erase(it) : std::next(it);
  auto& slot = accounts[plugin_id];
  if (auto account = slot.lock()) return account;
  auto account = std::make_shared<PluginAccount>(plugin_id);
  slot = account;
  return account;
}

bool PluginAccount::take_host_call_token(std::string_view capability, double per_second) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(capability);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(capability), Bucket{}).first;
  Bucket& b = it->second;
  const double capacity = std::max(1.0, per_second);  // a burst of at most one second's calls
  if (!b.started) {
    b.started = true;
    b.tokens = capacity;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(capacity, b.tokens + elapsed * per_second);
  }
  b.refilled = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

PluginAccount::Counters PluginAccount::counters() const {
  Counters c;
  c.calls_refused_concurrency = calls_refused_concurrency.load();
  c.host_calls_rate_limited = host_calls_rate_limited.load();
  c.denied_at_link = denied_at_link.load();
  c.denied_at_call = denied_at_call.load();
  c.quota_refusals = quota_refusals.load();
  c.hosts_blocked = hosts_blocked.load();
  return c;
}

std::string signature_text(const FuncType& type) {
  auto list = [](const std::vector<ValType>& types) {
    std::string s;
    for (ValType t : types) s += (s.empty() ? "" : ", ") + std::string(valtype_name(t));
    return "(" + s + ")";
  };
  return list(type.params) + " -> " + list(type.results);
}

Result<ImportTarget, LinkRefusal> resolve_import(const Module& module, const Import& import,
                                                 const LinkContext& context) {
  const HostFunctionInfo* row = nullptr;
  for (const HostFunctionInfo& r : context.embedder_rows)
    if (r.module == import.module && r.name == import.name) row = &r;
  const bool builtin_module = is_builtin_module(import.module);
  if (!row && builtin_module) {
    if (import.kind != ExternKind::Func)
      return Failure{LinkRefusal{"unknown import: " + import_text(import) + ": " + import.module +
                                 " exports only functions"}};
    row = find_builtin_host_function(import.module, import.name);
    if (!row)
      return Failure{
          LinkRefusal{"unknown import: " + import_text(import) +
                      (import.module == kEnvModule ? " is not an Extism kernel function"
                                                   : " is not a WASI preview1 function")}};
  }
  if (!row) return ImportTarget{};
  if (row->module == kWasiModule && !context.wasi)
    return Failure{LinkRefusal{"unknown import: " + import_text(import) +
                               " has not been defined (WASI is not enabled)"}};
  if (import.kind != ExternKind::Func || !(module.types[import.func_type.value] == row->type)) {
    std::string expected = import.kind == ExternKind::Func
                               ? signature_text(module.types[import.func_type.value])
                               : std::string("a non-function");
    return Failure{LinkRefusal{"incompatible import type for " + import_text(import) +
                               ": the plugin expects " + expected + ", the host function is " +
                               signature_text(row->type)}};
  }
  ImportTarget target{row, true};
  if (context.grants && !context.grants->allows(row->capability)) {
    target.granted = false;
    if (context.grants->deny == DenyMode::AtLink)
      return Failure{LinkRefusal{context.grants->denial(*row), true}};
  }
  return target;
}

Result<void, LinkRefusal> link_imports(Linker& linker, const Module& module, const HostImpls& impls,
                                       const LinkContext& context) {
  for (const Import& import : module.imports) {
    auto target = resolve_import(module, import, context);
    if (!target) {
      if (target.error().denied && context.account)
        context.account->record({GateEvent::Kind::DeniedAtLink, context.account->plugin_id(),
                                 import.module + " " + import.name, "", target.error().message});
      return Failure{std::move(target.error())};
    }
    const HostFunctionInfo* row = target->row;
    if (!row || linker.find(row->module, row->name)) continue;  // linked once per linker
    HostCallback callback = target->granted
                                ? gated(*row, impls.find(row->module, row->name), context)
                                : denied_at_call(*row, *context.grants, context.account);
    linker.define_function(row->module, row->name, row->type, std::move(callback));
  }
  return {};
}

void link_all(Linker& linker, std::string_view module, const HostImpls& impls, bool metered) {
  LinkContext context;
  context.metered = metered;
  for (const HostFunctionInfo& row : builtin_host_functions())
    if (row.module == module)
      linker.define_function(row.module, row.name, row.type,
                             gated(row, impls.find(row.module, row.name), context));
}

void link_rows(Linker& linker, std::span<const HostFunctionInfo> rows, const HostImpls& impls,
               bool metered) {
  LinkContext context;
  context.metered = metered;
  for (const HostFunctionInfo& row : rows)
    linker.define_function(row.module, row.name, row.type,
                           gated(row, impls.find(row.module, row.name), context));
}

}  // namespace warden::extism
