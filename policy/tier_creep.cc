// check_within_tier: a plugin document may only narrow its tier. Each excess ("tier creep") is
// its own error, located at the offending key (docs/policy.md, "Narrowing").
#include <algorithm>
#include <filesystem>

#include "hostabi/capability.h"
#include "policy/document_text.h"
#include "policy/policy_document.h"
#include "policy/size_units.h"

namespace warden::policy {
namespace {

namespace fs = std::filesystem;
using detail::format_number;
using detail::location_text;
using detail::q;

// Whether every host the plugin's pattern `p` admits is admitted by the tier's pattern `t`:
// t's `*` may consume anything of p (its `*` and `?` too), t's `?` one character of p that is
// not `*`, t's other characters only the same character (ASCII case-insensitive).
bool pattern_covers(std::string_view t, std::string_view p) {
  size_t ti = 0, pi = 0, star = std::string_view::npos, resume = 0;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  while (pi < p.size()) {
    if (ti < t.size() && t[ti] == '*') {
      star = ti++, resume = pi;
    } else if (ti < t.size() &&
               (t[ti] == '?' ? p[pi] != '*'
                             : p[pi] != '*' && p[pi] != '?' && lower(t[ti]) == lower(p[pi]))) {
      ++ti, ++pi;
    } else if (star != std::string_view::npos) {
      ti = star + 1, pi = ++resume;
    } else {
      return false;
    }
  }
  while (ti < t.size() && t[ti] == '*') ++ti;
  return ti == t.size();
}

// `dir` is `base` or beneath it, component by component.
bool beneath(std::string_view dir, std::string_view base) {
  fs::path d = fs::path(dir).lexically_normal(), b = fs::path(base).lexically_normal();
  auto di = d.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++di) {
    if (bi->empty() && std::next(bi) == b.end()) break;  // a trailing "/"
    if (di == d.end() || *di != *bi) return false;
  }
  return true;
}

SourceLocation where_in(const std::map<std::string, SourceLocation, std::less<>>& locations,
                        const std::string& key, const SourceLocation& fallback) {
  auto it = locations.find(key);
  return it != locations.end() ? it->second : fallback;
}

bool grants(const Tier& tier, std::string_view capability) {
  return capability == extism::capability::kMemoryOnly ||
         std::find(tier.capabilities.begin(), tier.capabilities.end(), capability) !=
             tier.capabilities.end();
}

// check_within_tier, one rule per method; every error names the plugin and the tier.
class CreepCheck {
 public:
  CreepCheck(const PluginDocument& doc, const Tier& tier)
      : doc_(doc), tier_(tier), plugin_(q(doc.plugin_id)), tier_name_(q(tier.name)) {}
  Errors errors;

  void capabilities() {
    if (!doc_.host_api_capabilities) return;
    const auto& caps = *doc_.host_api_capabilities;
    for (size_t i = 0; i < caps.size(); ++i)
      if (!grants(tier_, caps[i]))
        creep(where("host_api_capabilities[" + std::to_string(i) + "]", "host_api_capabilities"),
              "asks for " + caps[i] + ", which tier " + tier_name_ + " does not grant");
  }

  void quotas() {
    const ResourceLimits &mine = doc_.quotas, &limit = tier_.limits;
    auto size = [](uint64_t n) { return format_size(n); };
    auto count = [](uint64_t n) { return std::to_string(n); };
    compare("memory", mine.memory_bytes, limit.memory_bytes, size);
    compare("cpu_seconds_per_call", mine.cpu_seconds_per_call, limit.cpu_seconds_per_call,
            format_number);
    compare("concurrent_calls", mine.concurrent_calls, limit.concurrent_calls,
            [](uint32_t n) { return std::to_string(n); });
    compare("fuel_per_call", mine.fuel_per_call, limit.fuel_per_call, count);
    compare("timeout_ms", mine.timeout_ms, limit.timeout_ms, count);
    compare("max_output_bytes", mine.max_output_bytes, limit.max_output_bytes, size);
    compare("max_log_bytes_per_call", mine.max_log_bytes_per_call, limit.max_log_bytes_per_call,
            size);
    compare("http_egress_bytes_per_call", mine.http_egress_bytes_per_call,
            limit.http_egress_bytes_per_call, size);
    for (const auto& [cap, rate] : mine.host_calls_per_second) {
      std::string key = "host_calls_per_second[" + cap + "]";
      SourceLocation at = where_in(mine.where, key, doc_.where);
      if (!grants(tier_, cap)) {
        creep(at, "asks for a host_calls_per_second rate for " + cap + ", which tier " +
                      tier_name_ + " does not grant");
      } else if (!granted(cap)) {
        error(at, "host_calls_per_second names " + cap + ", which plugin " + plugin_ +
                      " does not ask for");
      } else if (auto it = limit.host_calls_per_second.find(cap);
                 it != limit.host_calls_per_second.end() && rate > it->second) {
        creep(at, "asks for " + key + " " + format_number(rate) + ", over tier " + tier_name_ +
                      "'s limit of " + format_number(it->second));
      }
    }
  }

  void hosts() {
    if (!doc_.quotas.allowed_hosts) return;
    const auto& mine = *doc_.quotas.allowed_hosts;
    for (size_t i = 0; i < mine.size(); ++i) {
      const auto& theirs = tier_.limits.allowed_hosts;
      bool covered = theirs && std::any_of(theirs->begin(), theirs->end(), [&](const auto& t) {
                       return pattern_covers(t, mine[i]);
                     });
      if (covered) continue;
      creep(where_in(doc_.quotas.where, "allowed_hosts[" + std::to_string(i) + "]", doc_.where),
            "asks for allowed host " + q(mine[i]) + ", which " +
                (theirs ? "no allowed_hosts pattern of tier " + tier_name_ + " matches"
                        : "tier " + tier_name_ + " does not allow (it allows no hosts)"));
    }
  }

  void paths() {
    if (!doc_.quotas.allowed_paths) return;
    for (const auto& [dir, guest] : *doc_.quotas.allowed_paths) {
      bool read_only = dir.rfind("ro:", 0) == 0;
      std::string_view host = std::string_view(dir).substr(read_only ? 3 : 0);
      bool under_any = false, allowed = false;
      std::string ro_base;
      if (tier_.limits.allowed_paths)
        for (const auto& [tier_dir, tier_guest] : *tier_.limits.allowed_paths) {
          bool tier_ro = tier_dir.rfind("ro:", 0) == 0;
          std::string_view base = std::string_view(tier_dir).substr(tier_ro ? 3 : 0);
          if (!beneath(host, base)) continue;
          under_any = true;
          if (tier_ro && !read_only)
            ro_base = base;
          else
            allowed = true;
        }
      if (allowed) continue;
      SourceLocation at = where_in(doc_.quotas.where, "allowed_paths[" + dir + "]", doc_.where);
      if (under_any)
        creep(at, "mounts " + q(host) + " writable, but tier " + tier_name_ + " mounts " +
                      q(ro_base) + " read-only");
      else
        creep(at, "mounts " + q(host) +
                      ", which is not beneath any allowed_paths directory of "
                      "tier " +
                      tier_name_);
    }
  }

  void trust_decisions() {
    for (size_t i = 0; i < doc_.trust_decisions.size(); ++i) {
      const std::string& cap = doc_.trust_decisions[i].capability;
      if (cap.empty()) continue;
      SourceLocation at = where("trust_decisions[" + std::to_string(i) + "]", "trust_decisions");
      if (!grants(tier_, cap))
        creep(at,
              "has a trust decision for " + cap + ", which tier " + tier_name_ + " does not grant");
      else if (!granted(cap))
        error(at, "trust decision for " + cap + ", which plugin " + plugin_ + " does not ask for");
    }
  }

  void source(const TierPolicy& policy) {
    if (!doc_.source) return;
    const Tier* home = policy.for_source(*doc_.source);
    if (!home || home == &tier_) return;
    for (const std::string& cap : tier_.capabilities)
      if (!grants(*home, cap))
        creep(where("source", "source"), "from source " + q(*doc_.source) + " (tier " +
                                             q(home->name) + ") claims tier " + tier_name_ +
                                             ", which also grants " + cap);
  }

 private:
  SourceLocation where(const std::string& key, const std::string& fallback) const {
    return where_in(doc_.locations, key, where_in(doc_.locations, fallback, doc_.where));
  }
  bool granted(std::string_view cap) const {
    if (!doc_.host_api_capabilities) return grants(tier_, cap);
    const auto& caps = *doc_.host_api_capabilities;
    return cap == extism::capability::kMemoryOnly ||
           std::find(caps.begin(), caps.end(), cap) != caps.end();
  }
  template <class T, class Format>
  void compare(const std::string& key, const std::optional<T>& mine, const std::optional<T>& limit,
               Format format) {
    if (!mine || !limit || *mine <= *limit) return;
    creep(where_in(doc_.quotas.where, key, doc_.where), "asks for " + key + " " + format(*mine) +
                                                            ", over tier " + tier_name_ +
                                                            "'s limit of " + format(*limit));
  }
  void creep(SourceLocation at, const std::string& what) {
    errors.push_back({std::move(at), "tier creep: plugin " + plugin_ + " " + what});
  }
  void error(SourceLocation at, std::string message) {
    errors.push_back({std::move(at), std::move(message)});
  }

  const PluginDocument& doc_;
  const Tier& tier_;
  std::string plugin_, tier_name_;
};

}  // namespace

Errors check_within_tier(const PluginDocument& doc, const TierPolicy& policy) {
  const Tier* tier = policy.find(doc.tier);
  if (!tier) {
    return {{where_in(doc.locations, "tier", doc.where),
             "plugin " + q(doc.plugin_id) + " claims tier " + q(doc.tier) + ", which " +
                 location_text({policy.file, 0, 0}) + " does not define"}};
  }
  CreepCheck check(doc, *tier);
  check.capabilities();
  check.quotas();
  check.hosts();
  check.paths();
  check.trust_decisions();
  check.source(policy);
  return std::move(check.errors);
}

}  // namespace warden::policy
