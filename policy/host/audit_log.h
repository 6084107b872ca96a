// The multi-tenant host's audit log: JSON lines, one record per invocation and one per denial,
// each written whole with one write(2) on a file opened for appending. In fail-closed mode the
// host writes an invocation's first record before the plugin runs and refuses the call when it
// cannot be written (a full disk, a closed pipe): nothing runs unaudited.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "decoder/result.h"

namespace warden::host {

struct AuditOptions {
  bool fail_closed = false;
  uint32_t host_call_sample_every = 0;  // record one of every N allowed host calls (0: none)
};

// One invocation: `outcome` is "started" (fail-closed mode, before the plugin runs), "ok", or
// the HostError kind's name.
struct InvocationRecord {
  std::string_view plugin_id, version, tenant_id, function, outcome, message;
  double duration_ms = 0;
  uint64_t fuel = 0;
  uint64_t memory_pages = 0;
};

// A refusal by the gate (hostabi's GateEvent) during a tenant's call.
struct DenialRecord {
  std::string_view plugin_id, tenant_id, kind, function, capability, message;
  std::string_view target = {};  // a blocked HTTP request's host
};

// A host function call that passed the gate (sampled: AuditOptions::host_call_sample_every).
struct HostCallRecord {
  std::string_view plugin_id, tenant_id, function, capability, host_class;
};

// A step of a version's rollout: "active" (added), "canary", "promoted", "rolled_back".
struct RolloutRecord {
  std::string_view plugin_id, version, action, reason;
};

class AuditLog {
 public:
  // Appends to `path` (created 0600 if absent).
  static Result<std::unique_ptr<AuditLog>, std::string> open(const std::string& path,
                                                             AuditOptions options = {});
  ~AuditLog();

  // False when the record could not be written whole.
  bool invocation(const InvocationRecord& record);
  bool denial(const DenialRecord& record);
  bool rollout(const RolloutRecord& record);
  bool host_call(const HostCallRecord& record);
  const AuditOptions& options() const { return options_; }

  bool fail_closed() const { return options_.fail_closed; }
  uint64_t records() const;
  uint64_t failures() const;  // records that could not be written
  const std::string& path() const { return path_; }

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

 private:
  AuditLog(int fd, std::string path, AuditOptions options)
      : fd_(fd), path_(std::move(path)), options_(options) {}
  bool write_line(std::string line);
  int fd_;
  std::string path_;
  AuditOptions options_;
  mutable std::mutex mutex_;
  uint64_t records_ = 0, failures_ = 0;
};

}  // namespace warden::host
