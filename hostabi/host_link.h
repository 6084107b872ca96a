// The one path from a plugin's imports to host functions. Every import of a host module is looked
// up in the host-function table (hostabi/host_table.h), checked against its signature and the
// plugin's grants, and linked wrapped in the same gate: fuel per call, the argument roles checked
// before the body runs, the host-call rate quota, the counters. It is the one place where
// denials and host calls are counted (PluginAccount), for the policy layer and the host above it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decoder/module.h"
#include "hostabi/host_table.h"
#include "vm/linker.h"

namespace warden::extism {

class Kernel;

// What a host function does: a plain function with a state pointer (the kernel's rows: no
// std::function on the hot path), or a callback (WASI, an embedder's functions).
struct HostImpl {
  using Fn = HostResult (*)(void* state, CallContext&, std::span<const Value>, std::span<Value>);
  Fn fn = nullptr;
  void* state = nullptr;
  HostCallback callback;  // used when fn is null
};

// The implementations behind the rows, by module and name.
class HostImpls {
 public:
  void add(std::string_view module, std::string_view name, HostImpl impl);
  const HostImpl* find(std::string_view module, std::string_view name) const;

 private:
  std::map<std::pair<std::string, std::string>, HostImpl, std::less<>> impls_;
};

enum class DenyMode { AtLink, AtCall };

// What a plugin may import. Without a policy, everything is granted.
struct Grants {
  std::optional<std::set<std::string, std::less<>>> capabilities;  // nullopt: everything
  DenyMode deny = DenyMode::AtLink;
  std::string plugin_id;  // for messages
  std::string tier;

  bool everything() const { return !capabilities; }
  bool allows(std::string_view capability) const;
  // `policy: plugin "report-gen" (tier_3) imports extism:host/env http_request, which needs
  // network_outbound_allowlist`
  std::string denial(const HostFunctionInfo& row) const;
};

// A refusal by the gate, as the audit log and metrics of a host see it.
struct GateEvent {
  enum class Kind {
    DeniedAtLink,        // an import the grants lack, deny: at_link (creation failed)
    DeniedAtCall,        // a call of such an import, deny: at_call
    RateLimited,         // host_calls_per_second
    ConcurrencyRefused,  // concurrent_calls
    QuotaRefused,        // cpu_seconds_per_call, max_output_bytes, http_egress_bytes_per_call
    HostBlocked,         // an HTTP request to a host allowed_hosts does not allow
  };
  Kind kind;
  std::string plugin_id;
  std::string function;    // "module name" of the host function involved, if any
  std::string capability;  // its capability, if any
  std::string message;     // the error the plugin's caller saw
  std::string target{};    // HostBlocked: the host (escaped)
};
using GateEventSink = std::function<void(const GateEvent&)>;

// Shared by every instance of one plugin id in the process (PluginAccount::of): its running
// calls, host-call rate buckets, refusal counters and event sink. Thread-safe.
class PluginAccount {
 public:
  PluginAccount() = default;
  explicit PluginAccount(std::string plugin_id) : plugin_id_(std::move(plugin_id)) {}
  const std::string& plugin_id() const { return plugin_id_; }

  // Every refusal goes through here: counted, then handed to the sink (the host's audit log).
  void record(GateEvent event);
  // Where the events go (none by default); replaces any earlier sink.
  void set_event_sink(GateEventSink sink);
  // The account of `plugin_id`, alive while some plugin holds it; a fresh one for "".
  static std::shared_ptr<PluginAccount> of(const std::string& plugin_id);

  // concurrent_calls: false (and nothing taken) when `limit` calls already run.
  bool enter_call(uint32_t limit) {  // inline: every call with concurrent_calls comes here
    uint32_t now = running_.load(std::memory_order_relaxed);
    do {
      if (now >= limit) return false;
    } while (!running_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
    return true;
  }
  void leave_call() { running_.fetch_sub(1, std::memory_order_relaxed); }
  uint32_t running() const { return running_.load(std::memory_order_relaxed); }

  // host_calls_per_second: a token bucket per capability holding at most one second's calls.
  bool take_host_call_token(std::string_view capability, double per_second);

  // The refusals, counted across instances (rare events: atomics). What every call does (calls,
  // host calls) is counted per instance without atomics (HostCallStats, Plugin::stats()).
  struct Counters {
    uint64_t calls_refused_concurrency = 0, host_calls_rate_limited = 0;
    uint64_t denied_at_link = 0, denied_at_call = 0;
    uint64_t quota_refusals = 0;  // cpu, output, egress (each call that failed on a quota)
    uint64_t hosts_blocked = 0;   // HTTP requests to hosts not allowed
  };
  Counters counters() const;
  std::atomic<uint64_t> calls_refused_concurrency{0}, host_calls_rate_limited{0}, denied_at_link{0},
      denied_at_call{0}, quota_refusals{0}, hosts_blocked{0};

 private:
  std::string plugin_id_;
  std::atomic<uint32_t> running_{0};
  GateEventSink sink_;  // guarded by mutex_
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
    bool started = false;
  };
  std::mutex mutex_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

// One linked row's calls that passed the gate, and how many of them failed (the body returned an
// error). `reported_*` are for whoever turns the counts into metrics (deltas since last time).
struct HostRowCount {
  const HostFunctionInfo* row = nullptr;
  uint64_t calls = 0, errors = 0;
  uint64_t reported_calls = 0, reported_errors = 0;
};

// Per-instance counts, plain integers: a Plugin is used from one thread at a time.
struct HostCallStats {
  uint64_t calls = 0;       // Plugin::call
  uint64_t host_calls = 0;  // every gated host call, granted or not
  // One entry per row linked into the instance (a deque: the linked functions keep pointers).
  std::deque<HostRowCount> rows;
  HostRowCount* count_for(const HostFunctionInfo& row) {
    for (HostRowCount& c : rows)
      if (c.row == &row) return &c;
    return &rows.emplace_back(HostRowCount{&row});
  }
};

struct LinkRefusal {
  std::string message;
  bool denied = false;  // by the grants (not an unknown import or a wrong type)
};

// What an import resolves to: a host row (with `granted` saying whether the grants allow it), or
// nothing (`row` null: another module of the plugin must provide it).
struct ImportTarget {
  const HostFunctionInfo* row = nullptr;
  bool granted = true;
};

// Everything the one path needs to know about the plugin being linked.
// Sees one of every `sample_every` host calls of an instance that passed the gate (the
// multi-tenant host's sampled audit records).
using HostCallSink = std::function<void(const HostFunctionInfo& row)>;

struct LinkContext {
  std::span<const HostFunctionInfo> embedder_rows;  // the plugin's own host functions
  const Grants* grants = nullptr;                   // null: everything granted
  bool wasi = false;                                // WASI is offered at all
  bool metered = false;                             // charge fuel per host call
  std::shared_ptr<PluginAccount> account;           // refusals and rate buckets (may be null)
  HostCallStats* stats = nullptr;                   // per-instance counts (may be null)
  const std::map<std::string, double, std::less<>>* host_calls_per_second = nullptr;
  Kernel* kernel = nullptr;   // for the Handle role of an embedder's arguments
  uint32_t sample_every = 0;  // 0: no sampling (the fast path stays)
  const HostCallSink* sample_sink = nullptr;
};

// Resolves one import of `module` (a function import of a host module, an embedder row, or
// nothing). Refused: an unknown host function, a wrong signature, WASI when it is not offered,
// and (deny: at_link) a capability the grants lack.
Result<ImportTarget, LinkRefusal> resolve_import(const Module& module, const Import& import,
                                                 const LinkContext& context);

// Links every import of `module` that resolves to a host row, through the gate. Imports that
// resolve to nothing are left for the linker's other definitions.
Result<void, LinkRefusal> link_imports(Linker& linker, const Module& module, const HostImpls& impls,
                                       const LinkContext& context);

// Defines every row of `module` in `linker` with everything granted (for embedders of the VM and
// `warden run`, which have no plugin imports to resolve up front).
void link_all(Linker& linker, std::string_view module, const HostImpls& impls, bool metered);
// The same for rows of the caller's (wasi_unstable's, hostabi/wasi/wasi_unstable.h), which must
// outlive the linker's functions.
void link_rows(Linker& linker, std::span<const HostFunctionInfo> rows, const HostImpls& impls,
               bool metered);

// "(i64, i64) -> (i32)"
std::string signature_text(const FuncType& type);

}  // namespace warden::extism
