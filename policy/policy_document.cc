// Parsing and checking the tier policy and the per-plugin threat-model documents
// (docs/policy.md). yaml-cpp builds the tree; a Reader walks it by the documents' shape, checking
// every key and value, and collects located errors. The walk is bounded (kMaxNodes visits, so
// aliases cannot multiply it; kMaxErrors errors) and never recurses deeper than the shape.
#include "policy/policy_document.h"

// GCC 12 reports `errors.push_back({{file, 0, 0}, "..."})` as a use of an uninitialised string
// (a known false positive of -Wmaybe-uninitialized with aggregate temporaries under -O2).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "decoder/untrusted_text.h"
#include "hostabi/capability.h"
#include "policy/document_text.h"
#include "policy/size_units.h"

namespace warden::policy {
namespace {

using detail::format_number;
using detail::location_text;
using detail::q;

namespace fs = std::filesystem;

constexpr size_t kMaxNodes = 100000;  // nodes visited per document, aliases counted each use
constexpr size_t kMaxErrors = 100;    // per document
constexpr int kMaxFlowDepth = 64;     // [ and { nesting; yaml-cpp's own guard is the backstop

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean X?)" for the closest name within edit distance 2, else "".
std::string suggestion(std::string_view name, const std::vector<std::string_view>& names) {
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : names) {
    size_t d = edit_distance(name, candidate);
    if (d < best_distance) best = candidate, best_distance = d;
  }
  return best.empty() ? "" : " (did you mean " + std::string(best) + "?)";
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int year = std::stoi(std::string(s.substr(0, 4))), month = (s[5] - '0') * 10 + (s[6] - '0'),
      day = (s[8] - '0') * 10 + (s[9] - '0');
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap);
}

// The deepest [ / { nesting outside comments and quoted scalars, with where it was first too deep.
std::optional<std::pair<int, int>> too_deep(std::string_view text) {
  int depth = 0, line = 1, column = 0;
  char quote = 0, previous = '\n';
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    ++column;
    if (c == '\n') line++, column = 0;
    if (quote) {
      if (c == quote) quote = 0;
      if (quote == '"' && c == '\\') ++i, ++column;
    } else if (c == '#' && (previous == ' ' || previous == '\n' || previous == '\t')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if ((c == '"' || c == '\'') &&
               std::string_view(" \t\n[{,:").find(previous) != std::string_view::npos) {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return std::pair{line, column};
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
  }
  return std::nullopt;
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "a string";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

std::string resolve(const std::string& document, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(document).parent_path() / p).lexically_normal().string();
}

// Walks one document. Every visit is counted; once the budget or the error cap is spent the walk
// stops, so a hostile document costs at most kMaxNodes steps.
class Reader {
 public:
  Reader(std::string file, const LoadOptions& options) : file_(std::move(file)) {
    for (std::string_view c : extism::kBuiltinCapabilities) capabilities_.push_back(c);
    for (const std::string& c : options.extra_capabilities) capabilities_.push_back(c);
  }

  Errors errors;

  SourceLocation at(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};
  }
  void error(SourceLocation where, std::string message) {
    if (stopped()) return;
    errors.push_back({std::move(where), std::move(message)});
    if (errors.size() == kMaxErrors) {
      PolicyError last;
      last.where.file = file_;
      last.message = "too many errors, stopped after " + std::to_string(kMaxErrors);
      errors.push_back(std::move(last));
    }
  }
  bool stopped() const { return errors.size() >= kMaxErrors || over_budget_; }
  // Counts one node; false once the budget is spent (reported once).
  bool visit(const YAML::Node& node) {
    if (stopped()) return false;
    if (++visited_ > kMaxNodes) {
      errors.push_back({at(node), "document too large: more than " + std::to_string(kMaxNodes) +
                                      " nodes (an alias counts each time it is used)"});
      over_budget_ = true;
      return false;
    }
    return true;
  }
  const std::string& file() const { return file_; }

  using KeyFn = std::function<void(const std::string& key, const YAML::Node& key_node,
                                   const YAML::Node& value, const SourceLocation& where)>;
  // The entries of a mapping: refuses a non-mapping, a key that is not a string, a key twice,
  // and (when `known` is not empty) a key not in `known`. `where` of a null value is its key's.
  void each_key(const YAML::Node& map, std::string_view what, const SourceLocation& fallback,
                const std::vector<std::string_view>& known, const KeyFn& fn) {
    if (!visit(map)) return;
    if (!map.IsMap()) {
      error(map.IsNull() ? fallback : at(map),
            std::string(what) + ": expected a mapping, got " + kind_of(map));
      return;
    }
    std::map<std::string, SourceLocation, std::less<>> seen;
    for (auto it = map.begin(); it != map.end() && !stopped(); ++it) {
      // Copies: it-> yields a temporary, so a reference to its members would dangle.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!visit(key)) return;
      if (!key.IsScalar()) {
        error(at(key), std::string(what) + ": a key must be a string, got " + kind_of(key));
        continue;
      }
      const std::string& name = key.Scalar();
      if (auto first = seen.find(name); first != seen.end()) {
        error(at(key), "duplicate key " + q(name) + " in " + std::string(what) + " (first at " +
                           std::to_string(first->second.line) + ":" +
                           std::to_string(first->second.column) + ")");
        continue;
      }
      seen.emplace(name, at(key));
      if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
        error(at(key),
              "unknown key " + q(name) + " in " + std::string(what) + suggestion(name, known));
        continue;
      }
      fn(name, key, value, value.IsNull() ? at(key) : at(value));
    }
  }

  // Each element of a list, with its location.
  void each_item(const YAML::Node& list, const std::string& key, const SourceLocation& where,
                 const std::function<void(const YAML::Node&, const SourceLocation&, size_t)>& fn) {
    if (!list.IsSequence()) {
      error(where, key + ": expected a list, got " + kind_of(list));
      return;
    }
    size_t index = 0;
    for (const YAML::Node& item : list) {
      if (!visit(item)) return;
      fn(item, item.IsNull() ? where : at(item), index++);
    }
  }

  std::optional<std::string> string(const YAML::Node& node, const std::string& key,
                                    const SourceLocation& where, bool allow_empty = false) {
    if (!node.IsScalar()) {
      error(where, key + ": expected a string, got " + kind_of(node));
      return std::nullopt;
    }
    if (node.Scalar().empty() && !allow_empty) {
      error(where, key + ": may not be empty");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::vector<std::string>> strings(const YAML::Node& node, const std::string& key,
                                                  const SourceLocation& where) {
    std::vector<std::string> out;
    bool ok = node.IsSequence();
    each_item(node, key, where, [&](const YAML::Node& item, const SourceLocation& at, size_t) {
      if (auto s = string(item, key + " entry", at))
        out.push_back(std::move(*s));
      else
        ok = false;
    });
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::string> one_of(const YAML::Node& node, const std::string& key,
                                    const SourceLocation& where,
                                    const std::vector<std::string_view>& values) {
    auto s = string(node, key, where);
    if (!s) return std::nullopt;
    if (std::find(values.begin(), values.end(), *s) != values.end()) return s;
    std::string list;
    for (std::string_view v : values) list += (list.empty() ? "" : "|") + std::string(v);
    error(where, key + ": " + q(*s) + " is not one of " + list);
    return std::nullopt;
  }

  std::optional<std::string> date(const YAML::Node& node, const std::string& key,
                                  const SourceLocation& where) {
    auto s = string(node, key, where);
    if (s && !valid_date(*s)) {
      error(where, key + ": " + q(*s) + " is not a date YYYY-MM-DD");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> capability(const YAML::Node& node, const std::string& key,
                                        const SourceLocation& where) {
    auto s = string(node, key, where);
    if (!s) return std::nullopt;
    if (std::find(capabilities_.begin(), capabilities_.end(), *s) != capabilities_.end()) return s;
    error(where, key + ": unknown capability " + q(*s) + suggestion(*s, capabilities_));
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> capability_list(
      const YAML::Node& node, const std::string& key, const SourceLocation& where,
      std::map<std::string, SourceLocation, std::less<>>& locations) {
    std::vector<std::string> out;
    bool ok = node.IsSequence();
    each_item(node, key, where, [&](const YAML::Node& item, const SourceLocation& at, size_t i) {
      auto c = capability(item, key + " entry", at);
      if (!c) return void(ok = false);
      if (std::find(out.begin(), out.end(), *c) != out.end())
        return error(at, key + ": " + *c + " is listed twice");
      locations[key + "[" + std::to_string(i) + "]"] = at;
      out.push_back(std::move(*c));
    });
    if (!ok) return std::nullopt;
    return out;
  }

  // A non-negative integer (digits only), at least `min` and at most `max`.
  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& key,
                                  const SourceLocation& where, uint64_t min, uint64_t max) {
    auto s = string(node, key, where);
    if (!s) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), value);
    if (ec != std::errc() || end != s->data() + s->size() || (*s)[0] == '+' || value < min ||
        value > max) {
      error(where, key + ": expected an integer from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got " + q(*s));
      return std::nullopt;
    }
    return value;
  }

  // A decimal number above zero: digits, optionally '.' and digits.
  std::optional<double> positive(const YAML::Node& node, const std::string& key,
                                 const SourceLocation& where) {
    auto s = string(node, key, where);
    if (!s) return std::nullopt;
    size_t dot = s->find('.');
    bool shape = !s->empty() && s->find_first_not_of("0123456789.") == std::string::npos &&
                 dot != 0 && dot + 1 != s->size() &&
                 (dot == std::string::npos || s->find('.', dot + 1) == std::string::npos);
    double value = 0;
    if (shape) {
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), value);
      shape = ec == std::errc() && end == s->data() + s->size() && std::isfinite(value);
    }
    if (!shape || value <= 0) {
      error(where, key + ": expected a number above 0, got " + q(*s));
      return std::nullopt;
    }
    return value;
  }

  std::optional<uint64_t> size(const YAML::Node& node, const std::string& key,
                               const SourceLocation& where) {
    auto s = string(node, key, where);
    if (!s) return std::nullopt;
    if (auto bytes = parse_size(*s)) return bytes;
    error(where, key + ": invalid size " + q(*s) +
                     " (an integer up to 2^64-1 bytes, then B, KB, MB, GB, KiB, MiB or GiB)");
    return std::nullopt;
  }

 private:
  std::string file_;
  std::vector<std::string_view> capabilities_;
  size_t visited_ = 0;
  bool over_budget_ = false;
};

// An allowed_hosts pattern as the runtime reads it: `*` any run of characters, `?` one.
bool valid_host_pattern(std::string_view p) {
  return !p.empty() && p.find_first_of(" \t\r\n[]\\/") == std::string_view::npos;
}

bool valid_host_dir(std::string_view dir) {
  if (dir.substr(0, 3) == "ro:") dir.remove_prefix(3);
  if (dir.empty()) return false;
  for (const fs::path& part : fs::path(dir))
    if (part == "..") return false;
  return true;
}

void read_limits(Reader& r, const YAML::Node& node, const std::string& what,
                 const SourceLocation& fallback, ResourceLimits& out) {
  static const std::vector<std::string_view> kKeys = {"memory",
                                                      "cpu_seconds_per_call",
                                                      "concurrent_calls",
                                                      "fuel_per_call",
                                                      "timeout_ms",
                                                      "max_output_bytes",
                                                      "max_log_bytes_per_call",
                                                      "host_calls_per_second",
                                                      "http_egress_bytes_per_call",
                                                      "allowed_hosts",
                                                      "allowed_paths"};
  r.each_key(
      node, what, fallback, kKeys,
      [&](const std::string& key, const YAML::Node&, const YAML::Node& v,
          const SourceLocation& at) {
        out.where[key] = at;
        if (key == "memory") out.memory_bytes = r.size(v, key, at);
        if (key == "max_output_bytes") out.max_output_bytes = r.size(v, key, at);
        if (key == "max_log_bytes_per_call") out.max_log_bytes_per_call = r.size(v, key, at);
        if (key == "http_egress_bytes_per_call")
          out.http_egress_bytes_per_call = r.size(v, key, at);
        if (key == "cpu_seconds_per_call") out.cpu_seconds_per_call = r.positive(v, key, at);
        if (key == "concurrent_calls")
          if (auto n = r.integer(v, key, at, 1, UINT32_MAX)) out.concurrent_calls = uint32_t(*n);
        if (key == "fuel_per_call") out.fuel_per_call = r.integer(v, key, at, 1, UINT64_MAX);
        if (key == "timeout_ms") out.timeout_ms = r.integer(v, key, at, 1, UINT64_MAX);
        if (key == "host_calls_per_second") {
          r.each_key(v, key, at, {},
                     [&](const std::string& cap, const YAML::Node& k, const YAML::Node& rate,
                         const SourceLocation& rate_at) {
                       auto c = r.capability(k, key, r.at(k));
                       auto n = r.positive(rate, key + "[" + cap + "]", rate_at);
                       if (c && n)
                         out.host_calls_per_second[cap] = *n,
                         out.where[key + "[" + cap + "]"] = r.at(k);
                     });
        }
        if (key == "allowed_hosts") {
          std::vector<std::string> hosts;
          r.each_item(
              v, key, at, [&](const YAML::Node& item, const SourceLocation& item_at, size_t) {
                auto h = r.string(item, "allowed_hosts entry", item_at);
                if (!h) return;
                if (!valid_host_pattern(*h))
                  return r.error(item_at,
                                 "allowed_hosts: " + q(*h) +
                                     " is not a host pattern (a host name; * and ? as globs)");
                out.where["allowed_hosts[" + std::to_string(hosts.size()) + "]"] = item_at;
                hosts.push_back(*h);
              });
          if (v.IsSequence()) out.allowed_hosts = std::move(hosts);
        }
        if (key == "allowed_paths") {
          std::map<std::string, std::string> paths;
          r.each_key(v, key, at, {},
                     [&](const std::string& dir, const YAML::Node& k, const YAML::Node& guest,
                         const SourceLocation& guest_at) {
                       if (!valid_host_dir(dir))
                         return r.error(
                             r.at(k),
                             "allowed_paths: " + q(dir) +
                                 " is not a host directory (empty, or with a .. component)");
                       if (auto g = r.string(guest, "allowed_paths[" + dir + "]", guest_at)) {
                         paths[dir] = *g;
                         out.where["allowed_paths[" + dir + "]"] = r.at(k);
                       }
                     });
          if (v.IsMap()) out.allowed_paths = std::move(paths);
        }
      });
}

void read_supply_chain(Reader& r, const YAML::Node& node, const SourceLocation& fallback,
                       SupplyChain& out) {
  static const std::vector<std::string_view> kRequirement = {"required", "optional"};
  SourceLocation signature_at = fallback;
  r.each_key(
      node, "supply_chain", fallback, {"signature", "keys", "static_analysis"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& v,
          const SourceLocation& at) {
        if (key == "keys") {
          for (const std::string& k : r.strings(v, key, at).value_or(std::vector<std::string>{}))
            out.key_files.push_back(resolve(r.file(), k));
          return;
        }
        auto value = r.one_of(v, key, at, kRequirement);
        Requirement req = value == "required" ? Requirement::Required : Requirement::Optional;
        if (key == "signature") out.signature = req, signature_at = at;
        if (key == "static_analysis") out.static_analysis = req;
      });
  if (out.signature == Requirement::Required && out.key_files.empty())
    r.error(signature_at, "supply_chain: signature: required needs at least one file in keys");
}

void read_tier(Reader& r, const std::string& name, const YAML::Node& node,
               const SourceLocation& where, Tier& tier) {
  tier.name = name;
  tier.where = where;
  bool has_capabilities = false;
  const std::string what = "tier " + q(name);
  r.each_key(
      node, what, where, {"sources", "capabilities", "resource_limits", "supply_chain", "deny"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& v,
          const SourceLocation& at) {
        tier.locations[key] = at;
        if (key == "sources") {
          r.each_item(
              v, key, at, [&](const YAML::Node& item, const SourceLocation& item_at, size_t) {
                auto s = r.string(item, "sources entry", item_at);
                if (!s) return;
                if (std::find(tier.sources.begin(), tier.sources.end(), *s) != tier.sources.end())
                  return r.error(item_at, "sources: " + q(*s) + " is listed twice");
                tier.locations["sources[" + std::to_string(tier.sources.size()) + "]"] = item_at;
                tier.sources.push_back(*s);
              });
        }
        if (key == "capabilities") {
          has_capabilities = true;
          tier.capabilities =
              r.capability_list(v, key, at, tier.locations).value_or(tier.capabilities);
        }
        if (key == "resource_limits") read_limits(r, v, "resource_limits", at, tier.limits);
        if (key == "supply_chain") read_supply_chain(r, v, at, tier.supply_chain);
        if (key == "deny")
          tier.deny = r.one_of(v, key, at, {"at_link", "at_call"}) == "at_call" ? DenyMode::AtCall
                                                                                : DenyMode::AtLink;
      });
  if (!has_capabilities && node.IsMap())
    r.error(where, what + " has no capabilities (write [memory_only] for the memory ABI alone)");
  for (const auto& [cap, rate] : tier.limits.host_calls_per_second) {
    if (cap == extism::capability::kMemoryOnly) continue;
    if (std::find(tier.capabilities.begin(), tier.capabilities.end(), cap) ==
        tier.capabilities.end())
      r.error(tier.limits.where["host_calls_per_second[" + cap + "]"],
              "host_calls_per_second: " + cap + " is not granted by " + what);
  }
}

// The policy's own consistency: default_tier exists; no source is listed by two tiers.
Errors check_policy(const TierPolicy& policy) {
  Errors errors;
  auto where = [&](const std::map<std::string, SourceLocation, std::less<>>& m,
                   const std::string& key) {
    auto it = m.find(key);
    return it != m.end() ? it->second : SourceLocation{policy.file, 0, 0};
  };
  if (policy.default_tier && !policy.find(*policy.default_tier))
    errors.push_back({where(policy.locations, "default_tier"),
                      "default_tier: no tier is named " + q(*policy.default_tier)});
  for (size_t t = 0; t < policy.tiers.size(); ++t) {
    const Tier& tier = policy.tiers[t];
    for (size_t s = 0; s < tier.sources.size(); ++s) {
      const Tier* first = policy.for_source(tier.sources[s]);
      if (first != &tier)
        errors.push_back({where(tier.locations, "sources[" + std::to_string(s) + "]"),
                          "source " + q(tier.sources[s]) + " is listed by tier " + q(first->name) +
                              " and by tier " + q(tier.name)});
    }
  }
  return errors;
}

// Loads the YAML tree of one document, or reports why not.
// Sees a document's events and keeps nothing: for counting documents.
struct DocumentCounter : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::optional<YAML::Node> load_yaml(std::string_view yaml, const std::string& file,
                                    Errors& errors) {
  if (yaml.size() > kMaxDocumentBytes) {
    errors.push_back({{file, 0, 0},
                      "document is " + std::to_string(yaml.size()) + " bytes, over the limit of " +
                          format_size(kMaxDocumentBytes)});
    return std::nullopt;
  }
  if (auto deep = too_deep(yaml)) {
    errors.push_back({{file, deep->first, deep->second},
                      "YAML nested deeper than " + std::to_string(kMaxFlowDepth) + " levels"});
    return std::nullopt;
  }
  try {
    // Documents are counted, at most two, with a parser of our own: yaml-cpp 0.7's LoadAll can
    // loop forever on malformed input, making documents without consuming any (found by
    // fuzz/policy_fuzzer; tests/policy_document_test.cc has the input).
    const std::string text(yaml);
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentCounter counter;
    int documents = 0;
    while (documents < 2 && parser.HandleNextDocument(counter)) ++documents;
    if (documents > 1) {
      errors.push_back({{file, 0, 0}, "a file holds one YAML document, this one holds more"});
      return std::nullopt;
    }
    YAML::Node document = documents == 0 ? YAML::Node() : YAML::Load(text);
    if (documents == 0 || document.IsNull()) {
      errors.push_back({{file, 0, 0}, "the document is empty"});
      return std::nullopt;
    }
    return document;
  } catch (const YAML::DeepRecursion& e) {
    errors.push_back({{file, e.mark.line + 1, e.mark.column + 1}, "YAML nested too deeply"});
  } catch (const YAML::Exception& e) {
    SourceLocation where{file, 0, 0};
    if (!e.mark.is_null()) where = {file, e.mark.line + 1, e.mark.column + 1};
    errors.push_back({where, "YAML syntax error: " + e.msg});
  } catch (const std::exception& e) {
    errors.push_back({{file, 0, 0}, std::string("cannot parse: ") + e.what()});
  }
  return std::nullopt;
}

std::optional<std::string> read_file(const std::string& path, Errors& errors) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    errors.push_back({{path, 0, 0}, "not a readable file"});
    return std::nullopt;
  }
  uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxDocumentBytes) {
    errors.push_back({{path, 0, 0},
                      ec ? "cannot read: " + ec.message()
                         : "document is " + std::to_string(size) + " bytes, over the limit of " +
                               format_size(kMaxDocumentBytes)});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxDocumentBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) {
    errors.push_back({{path, 0, 0}, "cannot read"});
    return std::nullopt;
  }
  return text;  // a file that grew past the limit is refused by load_yaml
}

template <class T>
Result<T, Errors> finish(T value, Errors errors) {
  if (!errors.empty()) return Failure{std::move(errors)};
  return value;
}

}  // namespace

std::string PolicyError::text() const { return location_text(where) + ": " + message; }

const Tier* TierPolicy::find(std::string_view name) const {
  for (const Tier& tier : tiers)
    if (tier.name == name) return &tier;
  return nullptr;
}

const Tier* TierPolicy::for_source(std::string_view source) const {
  for (const Tier& tier : tiers)
    if (std::find(tier.sources.begin(), tier.sources.end(), source) != tier.sources.end())
      return &tier;
  return nullptr;
}

Result<TierPolicy, Errors> parse_tier_policy(std::string_view yaml, const std::string& file,
                                             const LoadOptions& options) {
  Errors load_errors;
  auto root = load_yaml(yaml, file, load_errors);
  if (!root) return Failure{std::move(load_errors)};
  Reader r(file, options);
  TierPolicy policy;
  policy.file = file;
  bool has_tiers = false;
  const SourceLocation top{file, 0, 0};
  r.each_key(*root, "the tier policy", top, {"default_tier", "plugins", "tiers"},
             [&](const std::string& key, const YAML::Node&, const YAML::Node& v,
                 const SourceLocation& at) {
               policy.locations[key] = at;
               if (key == "default_tier") policy.default_tier = r.string(v, key, at);
               if (key == "plugins") {
                 r.each_item(v, key, at,
                             [&](const YAML::Node& item, const SourceLocation& item_at, size_t i) {
                               if (auto p = r.string(item, "plugins entry", item_at)) {
                                 policy.locations["plugins[" + std::to_string(i) + "]"] = item_at;
                                 policy.plugin_paths.push_back(resolve(file, *p));
                               }
                             });
               }
               if (key != "tiers") return;
               has_tiers = true;
               r.each_key(v, "tiers", at, {},
                          [&](const std::string& name, const YAML::Node& k, const YAML::Node& body,
                              const SourceLocation&) {
                            if (name.empty())
                              return r.error(r.at(k), "tiers: a tier name may not be empty");
                            read_tier(r, name, body, r.at(k), policy.tiers.emplace_back());
                          });
               if (v.IsMap() && v.size() == 0) r.error(at, "tiers: no tier is defined");
             });
  if (!has_tiers && root->IsMap()) r.error(top, "the tier policy has no tiers");
  if (r.errors.empty()) r.errors = check_policy(policy);
  return finish(std::move(policy), std::move(r.errors));
}

Result<TierPolicy, Errors> load_tier_policy(const std::string& path, const LoadOptions& options) {
  Errors errors;
  auto text = read_file(path, errors);
  if (!text) return Failure{std::move(errors)};
  return parse_tier_policy(*text, path, options);
}

Result<PluginDocument, Errors> parse_plugin_document(std::string_view yaml, const std::string& file,
                                                     const LoadOptions& options) {
  Errors load_errors;
  auto root = load_yaml(yaml, file, load_errors);
  if (!root) return Failure{std::move(load_errors)};
  Reader r(file, options);
  PluginDocument doc;
  doc.file = file;
  doc.where = r.at(*root);
  const SourceLocation top{file, 0, 0};
  r.each_key(
      *root, "the plugin document", top,
      {"plugin_id", "tier", "source", "host_api_capabilities", "quotas", "io", "trust_decisions",
       "review"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& v,
          const SourceLocation& at) {
        doc.locations[key] = at;
        if (key == "plugin_id") doc.plugin_id = r.string(v, key, at).value_or("");
        if (key == "tier") doc.tier = r.string(v, key, at).value_or("");
        if (key == "source") doc.source = r.string(v, key, at);
        if (key == "host_api_capabilities")
          doc.host_api_capabilities = r.capability_list(v, key, at, doc.locations);
        if (key == "quotas") read_limits(r, v, "quotas", at, doc.quotas);
        if (key == "io") {
          r.each_key(v, "io", at, {},
                     [&](const std::string& fn, const YAML::Node& k, const YAML::Node& body,
                         const SourceLocation& body_at) {
                       if (fn.empty())
                         return r.error(r.at(k), "io: a function name may not be empty");
                       IoSchemas& schemas = doc.io[fn];
                       doc.locations["io[" + fn + "]"] = r.at(k);
                       r.each_key(body, "io entry " + q(fn), body_at,
                                  {"input_schema", "output_schema"},
                                  [&](const std::string& which, const YAML::Node&,
                                      const YAML::Node& p, const SourceLocation& p_at) {
                                    auto path = r.string(p, which, p_at);
                                    if (!path) return;
                                    (which == "input_schema" ? schemas.input_schema
                                                             : schemas.output_schema) =
                                        resolve(file, *path);
                                  });
                     });
        }
        if (key == "trust_decisions") {
          r.each_item(
              v, key, at, [&](const YAML::Node& item, const SourceLocation& item_at, size_t i) {
                TrustDecision decision;
                std::set<std::string> present;
                r.each_key(
                    item, "a trust decision", item_at, {"capability", "rationale", "risk"},
                    [&](const std::string& k, const YAML::Node&, const YAML::Node& value,
                        const SourceLocation& value_at) {
                      present.insert(k);
                      if (k == "capability")
                        decision.capability = r.capability(value, k, value_at).value_or("");
                      if (k == "rationale")
                        decision.rationale = r.string(value, k, value_at).value_or("");
                      if (k == "risk")
                        decision.risk =
                            r.one_of(value, k, value_at, {"low", "medium", "high"}).value_or("");
                    });
                if (!item.IsMap()) return;
                for (const char* required : {"capability", "rationale", "risk"})
                  if (!present.count(required))
                    r.error(item_at, "a trust decision needs " + std::string(required));
                doc.locations["trust_decisions[" + std::to_string(i) + "]"] = item_at;
                doc.trust_decisions.push_back(std::move(decision));
              });
        }
        if (key == "review") {
          Review review;
          std::set<std::string> present;
          r.each_key(v, "review", at, {"reviewed_by", "reviewed_at", "next_review"},
                     [&](const std::string& k, const YAML::Node&, const YAML::Node& value,
                         const SourceLocation& value_at) {
                       present.insert(k);
                       doc.locations[k] = value_at;
                       if (k == "reviewed_by")
                         review.reviewed_by = r.string(value, k, value_at).value_or("");
                       if (k == "reviewed_at")
                         review.reviewed_at = r.date(value, k, value_at).value_or("");
                       if (k == "next_review")
                         review.next_review = r.date(value, k, value_at).value_or("");
                     });
          if (!v.IsMap()) return;
          for (const char* required : {"reviewed_by", "reviewed_at", "next_review"})
            if (!present.count(required)) r.error(at, "review needs " + std::string(required));
          if (!review.reviewed_at.empty() && !review.next_review.empty() &&
              review.next_review < review.reviewed_at)
            r.error(doc.locations["next_review"], "next_review " + review.next_review +
                                                      " is before reviewed_at " +
                                                      review.reviewed_at);
          doc.review = std::move(review);
        }
      });
  if (root->IsMap()) {
    if (!doc.locations.count("plugin_id")) r.error(top, "the plugin document has no plugin_id");
    if (!doc.locations.count("tier")) r.error(top, "the plugin document has no tier");
  }
  return finish(std::move(doc), std::move(r.errors));
}

Result<std::vector<PluginDocument>, Errors> load_plugin_documents(const std::string& path,
                                                                  const LoadOptions& options) {
  Errors errors;
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::directory_iterator it(path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string ext = it->path().extension().string();
      std::error_code type_ec;
      if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(type_ec))
        files.push_back(it->path().string());
    }
    if (ec) errors.push_back({{path, 0, 0}, "cannot list: " + ec.message()});
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<PluginDocument> docs;
  for (const std::string& file : files) {
    auto text = read_file(file, errors);
    if (!text) continue;
    auto doc = parse_plugin_document(*text, file, options);
    if (doc.ok())
      docs.push_back(std::move(doc).value());
    else
      for (PolicyError& e : doc.take_error()) errors.push_back(std::move(e));
  }
  return finish(std::move(docs), std::move(errors));
}

DocumentKind document_kind(std::string_view yaml) {
  Errors errors;
  auto root = load_yaml(yaml, "", errors);
  if (!root || !root->IsMap()) return DocumentKind::Unknown;
  for (auto it = root->begin(); it != root->end(); ++it) {
    if (!it->first.IsScalar()) continue;
    if (it->first.Scalar() == "tiers") return DocumentKind::TierPolicy;
    if (it->first.Scalar() == "plugin_id") return DocumentKind::PluginDocument;
  }
  return DocumentKind::Unknown;
}

Errors check_documents(const TierPolicy& policy, const std::vector<PluginDocument>& docs) {
  Errors errors = check_policy(policy);
  std::map<std::string, const PluginDocument*, std::less<>> seen;
  for (const PluginDocument& doc : docs) {
    auto [first, inserted] = seen.emplace(doc.plugin_id, &doc);
    if (inserted) continue;
    auto where = [](const PluginDocument& d) {
      auto it = d.locations.find("plugin_id");
      return it != d.locations.end() ? it->second : d.where;
    };
    errors.push_back({where(doc), "duplicate plugin_id " + q(doc.plugin_id) + " (also in " +
                                      location_text(where(*first->second)) + ")"});
  }
  return errors;
}

Errors review_warnings(const std::vector<PluginDocument>& docs, std::string_view today) {
  Errors warnings;
  for (const PluginDocument& doc : docs) {
    if (!doc.review || doc.review->next_review.empty() || doc.review->next_review >= today)
      continue;
    auto it = doc.locations.find("next_review");
    warnings.push_back({it != doc.locations.end() ? it->second : doc.where,
                        "warning: review of plugin " + q(doc.plugin_id) + " expired on " +
                            doc.review->next_review});
  }
  return warnings;
}

}  // namespace warden::policy
