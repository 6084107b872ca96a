// Static analysis of a plugin before it runs: every import with its capability, class and whether
// the admission grants it; the URLs and host names in its data segments against the allowed
// hosts; its declared memories and tables against the memory quota. `warden audit` prints it;
// a tier with `static_analysis: required` refuses a plugin whose report has problems.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "decoder/module.h"
#include "hostabi/capability.h"
#include "hostabi/host_link.h"
#include "hostabi/quota.h"

namespace warden::policy {

struct AuditInput {
  const extism::Grants* grants = nullptr;  // null: report only (everything counts as granted)
  std::span<const extism::HostFunctionInfo> embedder_rows;
  const std::optional<std::vector<std::string>>* allowed_hosts = nullptr;
  const extism::Quota* quota = nullptr;
  // Hosts outside allowed_hosts refuse the plugin (static_analysis: required); otherwise they
  // are notes.
  bool strict_hosts = true;
};

struct AuditReport {
  struct ImportLine {
    std::string module, name;  // the plugin's bytes (escape before printing)
    std::string signature;
    std::string capability;  // "" for an unknown import or one from another plugin module
    std::optional<extism::HostClass> host_class;
    bool known = false;  // a host function row
    bool granted = true;
  };
  struct HostLine {
    std::string host;     // as found (escape before printing)
    std::string context;  // the URL or token it was found in
    uint32_t segment = 0;
    uint64_t offset = 0;  // in the segment
    bool allowed = true;
  };
  struct MemoryLine {
    std::string kind;  // "memory" or "table"
    uint32_t index = 0;
    uint64_t min_bytes = 0;
    std::optional<uint64_t> max_bytes;
    bool imported = false;
    bool within_quota = true;
  };
  std::string module_name;
  std::vector<ImportLine> imports;
  std::set<std::string> needed_capabilities;  // what the imports need (memory_only always)
  std::vector<HostLine> hosts;
  std::vector<MemoryLine> memories;
  std::vector<std::string> problems;  // why it would be refused; empty: admitted
  std::vector<std::string> notes;     // worth a look, not a refusal

  bool admitted() const { return problems.empty(); }
};

// `deny_at_call`: denied imports are problems only under deny: at_link.
AuditReport audit_module(const Module& module, const AuditInput& input, bool deny_at_call = false);

// Host names in bytes: the hosts of URLs (http, https, ws, wss, ftp) and bare names with a
// well-known top-level domain. Each at most once.
std::vector<AuditReport::HostLine> find_hosts(std::span<const uint8_t> bytes, uint32_t segment);

// Text for the terminal (untrusted names escaped) and JSON.
std::string audit_text(const AuditReport& report);
std::string audit_json(const AuditReport& report);

}  // namespace warden::policy
