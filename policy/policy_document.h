// The capability gate's two documents (docs/policy.md): the tier policy, which says what each
// trust tier of plugins may do, and the per-plugin threat-model documents, which may only narrow
// their tier. Parsed from YAML with every key checked; every error located FILE:LINE:COLUMN.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoder/result.h"

namespace warden::policy {

struct SourceLocation {
  std::string file;
  int line = 0, column = 0;  // 1-based; 0 = the whole file
};

struct PolicyError {
  SourceLocation where;
  std::string message;
  // "FILE:LINE:COLUMN: message", or "FILE: message" when there is no line.
  std::string text() const;
};

enum class Requirement { Optional, Required };
enum class DenyMode { AtLink, AtCall };

// resource_limits of a tier, quotas of a plugin. An absent value is "no limit", except
// allowed_hosts and allowed_paths, where absent means none (no request, no mount).
struct ResourceLimits {
  std::optional<uint64_t> memory_bytes;
  std::optional<double> cpu_seconds_per_call;
  std::optional<uint32_t> concurrent_calls;
  std::optional<uint64_t> fuel_per_call, timeout_ms, max_output_bytes, max_log_bytes_per_call,
      http_egress_bytes_per_call;
  std::map<std::string, double, std::less<>> host_calls_per_second;  // capability -> calls/s
  std::optional<std::vector<std::string>> allowed_hosts;
  std::optional<std::map<std::string, std::string>> allowed_paths;  // "ro:"? host dir -> guest
  // Key name -> its location: "memory", "allowed_hosts", and for entries "allowed_hosts[0]",
  // "allowed_paths[ro:/srv/assets]", "host_calls_per_second[log_emit]".
  std::map<std::string, SourceLocation, std::less<>> where;
};

struct SupplyChain {
  Requirement signature = Requirement::Optional;
  std::vector<std::string> key_files;  // resolved against the document's directory
  Requirement static_analysis = Requirement::Optional;
};

struct Tier {
  std::string name;
  SourceLocation where;  // of its name
  std::vector<std::string> sources;
  std::vector<std::string> capabilities;  // as written; memory_only is granted regardless
  ResourceLimits limits;
  SupplyChain supply_chain;
  DenyMode deny = DenyMode::AtLink;
  // Entry -> location: "sources[1]", "capabilities[0]", "supply_chain", "deny".
  std::map<std::string, SourceLocation, std::less<>> locations;
};

struct TierPolicy {
  std::string file;
  std::optional<std::string> default_tier;
  std::vector<std::string> plugin_paths;  // resolved against the document's directory
  std::vector<Tier> tiers;
  std::map<std::string, SourceLocation, std::less<>> locations;  // "default_tier", "plugins[0]"
  const Tier* find(std::string_view name) const;
  const Tier* for_source(std::string_view source) const;  // the tier listing this source, or nullptr
};

struct IoSchemas {
  std::optional<std::string> input_schema, output_schema;  // resolved paths
};
struct TrustDecision {
  std::string capability, rationale, risk;  // risk: low|medium|high
};
struct Review {
  std::string reviewed_by, reviewed_at, next_review;  // dates YYYY-MM-DD
};

struct PluginDocument {
  std::string file;
  SourceLocation where;  // of the document
  std::string plugin_id, tier;
  std::optional<std::string> source;
  std::optional<std::vector<std::string>> host_api_capabilities;  // absent = the tier's
  ResourceLimits quotas;
  std::map<std::string, IoSchemas, std::less<>> io;  // exported function -> schemas
  std::vector<TrustDecision> trust_decisions;
  std::optional<Review> review;
  // Key -> location: "plugin_id", "tier", "source", "host_api_capabilities[0]", "io[render]",
  // "trust_decisions[0]", "review", "next_review".
  std::map<std::string, SourceLocation, std::less<>> locations;
};

struct LoadOptions {
  std::vector<std::string> extra_capabilities;  // an embedder's own capability names
};

using Errors = std::vector<PolicyError>;

// Documents over this size are refused before they are parsed.
inline constexpr size_t kMaxDocumentBytes = 1 << 20;

Result<TierPolicy, Errors> load_tier_policy(const std::string& path, const LoadOptions& = {});
Result<TierPolicy, Errors> parse_tier_policy(std::string_view yaml, const std::string& file,
                                             const LoadOptions& = {});
// A file, or every *.yaml / *.yml in a directory (sorted by name; not recursive).
Result<std::vector<PluginDocument>, Errors> load_plugin_documents(const std::string& path,
                                                                  const LoadOptions& = {});
Result<PluginDocument, Errors> parse_plugin_document(std::string_view yaml, const std::string& file,
                                                     const LoadOptions& = {});

// Which kind a YAML text is: a mapping with `tiers:` is a tier policy, one with `plugin_id:` a
// plugin document; anything else (not YAML, not a mapping, too large) is Unknown.
enum class DocumentKind { TierPolicy, PluginDocument, Unknown };
DocumentKind document_kind(std::string_view yaml);

// Tier creep: the plugin's tier exists and the document only narrows it (docs/policy.md lists
// every rule). Each excess is its own error, located at the offending entry.
Errors check_within_tier(const PluginDocument& doc, const TierPolicy& policy);
// What no single document shows: the policy's own consistency (default_tier exists, no source in
// two tiers) and no plugin_id in two documents. Run check_within_tier for each document as well.
Errors check_documents(const TierPolicy& policy, const std::vector<PluginDocument>& docs);
// "warning: review of plugin "x" expired on 2026-01-01" for each next_review before `today`
// (YYYY-MM-DD).
Errors review_warnings(const std::vector<PluginDocument>& docs, std::string_view today);

}  // namespace warden::policy
