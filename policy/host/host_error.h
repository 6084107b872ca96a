// The multi-tenant host's one error type: what failed, as a kind a service maps to a status code
// (docs/serve.md, with warden serve), and a message a user can act on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace warden::host {

struct HostError {
  enum class Kind {
    BadRequest,     // no tenant id, an unknown function, input refused by its schema
    UnknownPlugin,  // no such plugin id (or version)
    Admission,      // the gate refused the plugin (policy, signature, static analysis, links)
    Denied,         // a call used an import its grants lack (deny: at_call)
    Quota,          // a quota refused the call (cpu, concurrency, output, egress, host-call rate)
    Timeout,        // the call's deadline passed, or it was cancelled
    OutOfFuel,
    Oom,           // the plugin's memory budget, or host memory
    Trap,          // the plugin trapped
    PluginFailed,  // the plugin returned an error (error_set, a non-zero rc, output schema)
    PoolFull,      // every pooled instance is busy and the pool is at its maximum
    Audit,         // fail-closed: the audit record could not be written; nothing ran
  };
  Kind kind;
  std::string message;
  int32_t rc = -1;
};

// "bad_request", "unknown_plugin", ..., "audit": the outcome in audit records and metrics.
std::string_view host_error_kind_name(HostError::Kind kind);

}  // namespace warden::host
