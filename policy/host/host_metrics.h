// The multi-tenant host's metrics, in the Prometheus text format (prometheus-cpp), with the
// names and labels of the seed documents (extism_* and plugin_*). Label values that come from
// plugins or callers are escaped, and the label sets are bounded: at most `max_tenants` tenant
// values (then "_other") and `max_functions` function values (then "_other"), so that a flood
// of tenants or function names cannot grow the exposition without bound. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "policy/host/host_error.h"

namespace warden::host {

// One finished call, as the host saw it.
struct CallObservation {
  std::string_view plugin_id, version, tier, tenant_id, function;
  const HostError* error = nullptr;  // nullptr: ok
  double duration_ms = 0;
  double cpu_seconds = 0;
  uint64_t memory_pages = 0;
};

class HostMetrics {
 public:
  explicit HostMetrics(size_t max_tenants = 100, size_t max_functions = 200);
  ~HostMetrics();

  void call(const CallObservation& call);
  // A refusal by the gate (deny at call, rate, concurrency, quota) of a host function.
  void denial(std::string_view plugin_id, std::string_view host_function, std::string_view kind);
  // Host calls that passed the gate, `errors` of them failed (status "ok" and "error").
  void host_calls(std::string_view plugin_id, std::string_view host_function, uint64_t calls,
                  uint64_t errors);
  // HTTP bytes (request and response bodies) a call exchanged with `host`.
  void egress(std::string_view plugin_id, std::string_view host, uint64_t bytes);
  // An HTTP request to a host allowed_hosts does not allow.
  void blocked_host(std::string_view plugin_id, std::string_view host);
  // A version refused at admission: "signature", "static_analysis" or "policy".
  void supply_chain_violation(std::string_view plugin_id, std::string_view type);
  // A version's limits, for the alerts that compare use with them (0: no such limit).
  void limits(std::string_view plugin_id, uint64_t memory_pages, double cpu_seconds_per_call);
  // A rollout step: "active", "canary", "promoted", "rolled_back".
  void rollout(std::string_view plugin_id, std::string_view action);

  // The exposition (text format 0.0.4).
  std::string text() const;

  HostMetrics(const HostMetrics&) = delete;
  HostMetrics& operator=(const HostMetrics&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::host
