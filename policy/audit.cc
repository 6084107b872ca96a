#include "policy/audit.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "decoder/untrusted_text.h"
#include "hostabi/http.h"
#include "policy/size_units.h"

namespace warden::policy {
namespace {

using extism::HostFunctionInfo;

constexpr uint64_t kPageBytes = 65536;
constexpr uint64_t kTableElementBytes = 8;  // what the VM charges per element (vm/store.cc)
constexpr size_t kMaxHostsReported = 1000;  // a data segment full of names cannot flood the report

bool host_char(uint8_t c) { return std::isalnum(c) || c == '-' || c == '.'; }

// Top-level domains common enough that a bare name ending in one is worth reporting.
bool well_known_tld(std::string_view tld) {
  static constexpr std::string_view kTlds[] = {
      "com", "net", "org", "io", "dev", "app", "ai", "co",  "cloud", "xyz", "info", "biz", "me",
      "us",  "uk",  "de",  "fr", "ru",  "cn",  "jp", "gov", "edu",   "sh",  "tk",   "top", "site"};
  std::string lower(tld);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(std::begin(kTlds), std::end(kTlds), lower) != std::end(kTlds);
}

bool plausible_host(std::string_view host) {
  if (host.size() < 4 || host.size() > 253 || host.front() == '.' || host.front() == '-')
    return false;
  if (host.back() == '.') host.remove_suffix(1);
  const size_t dot = host.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view tld = host.substr(dot + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return std::isalpha(static_cast<unsigned char>(c));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool host_allowed(const std::optional<std::vector<std::string>>* allowed, const std::string& host) {
  if (!allowed || !*allowed) return false;  // no allowed hosts: nothing may be reached
  for (const std::string& glob : **allowed)
    if (extism::host_matches(glob, host)) return true;
  return false;
}

}  // namespace

std::vector<AuditReport::HostLine> find_hosts(std::span<const uint8_t> bytes, uint32_t segment) {
  std::vector<AuditReport::HostLine> out;
  std::set<std::string> seen;
  auto add = [&](std::string host, std::string context, uint64_t offset) {
    if (!host.empty() && host.back() == '.') host.pop_back();
    host = lower(host);
    if (host.empty() || !seen.insert(host).second || out.size() >= kMaxHostsReported) return;
    out.push_back({std::move(host), std::move(context), segment, offset, true});
  };
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // URLs: scheme://[userinfo@]host[:port]...
  static constexpr std::string_view kSchemes[] = {"https://", "http://", "wss://", "ws://",
                                                  "ftp://"};
  std::vector<std::pair<size_t, size_t>> url_spans;
  for (std::string_view scheme : kSchemes) {
    for (size_t at = 0; (at = text.find(scheme, at)) != std::string_view::npos;
         at += scheme.size()) {
      if (at > 0 && std::isalpha(static_cast<unsigned char>(text[at - 1]))) continue;  // "xhttp://"
      size_t end = at + scheme.size();
      while (end < text.size() && static_cast<unsigned char>(text[end]) > 0x20 &&
             static_cast<unsigned char>(text[end]) < 0x7f && text[end] != '"' && text[end] != '\'')
        ++end;
      std::string_view authority = text.substr(at + scheme.size(), end - at - scheme.size());
      authority = authority.substr(0, authority.find_first_of("/?#"));
      if (const size_t userinfo = authority.rfind('@'); userinfo != std::string_view::npos)
        authority.remove_prefix(userinfo + 1);
      std::string_view host = authority;
      if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
      } else {
        host = host.substr(0, host.find(':'));
      }
      url_spans.emplace_back(at, end);
      add(std::string(host), std::string(text.substr(at, std::min<size_t>(end - at, 200))), at);
    }
  }
  // Bare host names (api.example.com), outside the URLs already seen.
  for (size_t i = 0; i < text.size();) {
    if (!host_char(static_cast<uint8_t>(text[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && host_char(static_cast<uint8_t>(text[end]))) ++end;
    const bool inside_url = std::any_of(url_spans.begin(), url_spans.end(), [&](auto span) {
      return i >= span.first && i < span.second;
    });
    const std::string_view token = text.substr(i, end - i);
    const bool after_at = i > 0 && text[i - 1] == '@';  // an e-mail address
    if (!inside_url && !after_at && plausible_host(token)) {
      std::string_view t = token;
      if (t.back() == '.') t.remove_suffix(1);
      if (well_known_tld(t.substr(t.rfind('.') + 1))) add(std::string(t), std::string(t), i);
    }
    i = end;
  }
  return out;
}

AuditReport audit_module(const Module& module, const AuditInput& input, bool deny_at_call) {
  AuditReport report;
  report.needed_capabilities.insert(std::string(extism::capability::kMemoryOnly));
  extism::LinkContext context;
  context.embedder_rows = input.embedder_rows;
  context.wasi = true;
  for (const Import& import : module.imports) {
    AuditReport::ImportLine line;
    line.module = import.module;
    line.name = import.name;
    if (import.kind == ExternKind::Func && import.func_type.value < module.types.size())
      line.signature = extism::signature_text(module.types[import.func_type.value]);
    auto target = extism::resolve_import(module, import, context);
    if (!target) {
      report.problems.push_back(target.error().message);
    } else if (const HostFunctionInfo* row = target->row) {
      line.known = true;
      line.capability = row->capability;
      line.host_class = row->host_class;
      line.granted = !input.grants || input.grants->allows(row->capability);
      report.needed_capabilities.insert(row->capability);
      if (!line.granted) {
        if (deny_at_call) {
          report.notes.push_back(input.grants->denial(*row) +
                                 " (deny: at_call: linked; a call to it fails)");
        } else {
          report.problems.push_back(input.grants->denial(*row));
        }
      }
    } else {
      report.notes.push_back("imports " + quote_untrusted(import.module) + " " +
                             quote_untrusted(import.name) +
                             ", which another module of the plugin must export");
    }
    report.imports.push_back(std::move(line));
  }
  // Hosts named in data segments.
  for (size_t i = 0; i < module.datas.size(); ++i) {
    const ByteRange init = module.datas[i].init;
    if (init.offset + init.size > module.bytes.size()) continue;
    for (AuditReport::HostLine& host :
         find_hosts({module.bytes.data() + init.offset, init.size}, static_cast<uint32_t>(i))) {
      host.allowed = host_allowed(input.allowed_hosts, host.host);
      if (!host.allowed) {
        const bool can_fetch =
            report.needed_capabilities.contains(std::string(extism::capability::kNetwork));
        std::string message = "data segment " + std::to_string(i) + " names host " +
                              quote_untrusted(host.host, 200) +
                              ", which allowed_hosts does not allow";
        if (can_fetch && input.strict_hosts) {
          report.problems.push_back(std::move(message));
        } else {
          report.notes.push_back(message + " (the plugin cannot make HTTP requests)");
        }
      }
      report.hosts.push_back(std::move(host));
    }
  }
  // Memories and tables against the memory quota.
  const std::optional<uint64_t> budget = input.quota ? input.quota->memory_bytes : std::nullopt;
  uint64_t initial_total = 0;
  auto add_memory = [&](std::string kind, uint32_t index, const Limits& limits, uint64_t unit,
                        bool imported) {
    AuditReport::MemoryLine line{
        std::move(kind),   index,
        limits.min * unit, limits.max ? std::optional<uint64_t>(*limits.max * unit) : std::nullopt,
        imported,          true};
    if (!imported) initial_total += line.min_bytes;
    if (budget && line.min_bytes > *budget) {
      line.within_quota = false;
      report.problems.push_back(line.kind + " " + std::to_string(index) + " starts at " +
                                format_size(line.min_bytes) + ", over the memory quota of " +
                                format_size(*budget));
    } else if (budget && (!line.max_bytes || *line.max_bytes > *budget)) {
      report.notes.push_back(line.kind + " " + std::to_string(index) + " may grow to " +
                             (line.max_bytes ? format_size(*line.max_bytes) : "its limit") +
                             "; growth stops at the memory quota of " + format_size(*budget));
    }
    report.memories.push_back(std::move(line));
  };
  for (size_t i = 0; i < module.memories.size(); ++i)
    add_memory("memory", static_cast<uint32_t>(i), module.memories[i].limits, kPageBytes,
               i < module.memories_imported);
  for (size_t i = 0; i < module.tables.size(); ++i)
    add_memory("table", static_cast<uint32_t>(i), module.tables[i].limits, kTableElementBytes,
               i < module.tables_imported);
  if (budget && initial_total > *budget)
    report.problems.push_back("initial memories and tables take " + format_size(initial_total) +
                              ", over the memory quota of " + format_size(*budget));
  return report;
}

std::string audit_text(const AuditReport& report) {
  std::string out;
  out += "imports (" + std::to_string(report.imports.size()) + "):\n";
  if (report.imports.empty()) out += "  none\n";
  for (const auto& line : report.imports) {
    out += "  " + escape_untrusted(line.module, 200) + " " + escape_untrusted(line.name, 200);
    if (!line.signature.empty()) out += " " + line.signature;
    if (line.known) {
      out += "  capability " + escape_untrusted(line.capability) + ", " +
             std::string(extism::host_class_name(*line.host_class)) +
             (line.granted ? ", granted" : ", DENIED");
    } else {
      out += "  (not a host function)";
    }
    out += "\n";
  }
  out += "capabilities needed:";
  for (const std::string& c : report.needed_capabilities) {
    out += ' ';  // appended apart: GCC 12 warns (-Wrestrict) on " " + std::string
    out += escape_untrusted(c);
  }
  out += "\n";
  out += "hosts in data segments (" + std::to_string(report.hosts.size()) + "):\n";
  for (const auto& h : report.hosts)
    out += "  " + escape_untrusted(h.host, 200) + "  (segment " + std::to_string(h.segment) + " +" +
           std::to_string(h.offset) + ")" + (h.allowed ? ", allowed" : ", NOT ALLOWED") + "\n";
  out += "memories and tables:\n";
  for (const auto& m : report.memories)
    out += "  " + m.kind + " " + std::to_string(m.index) + (m.imported ? " (imported)" : "") +
           ": " + format_size(m.min_bytes) + " initial, " +
           (m.max_bytes ? format_size(*m.max_bytes) + " max" : std::string("no max")) +
           (m.within_quota ? "" : "  OVER QUOTA") + "\n";
  for (const std::string& n : report.notes) out += "note: " + n + "\n";
  for (const std::string& p : report.problems) out += "refused: " + p + "\n";
  out += report.admitted() ? "verdict: admitted\n" : "verdict: refused\n";
  return out;
}

std::string audit_json(const AuditReport& report) {
  using nlohmann::json;
  json j;
  j["admitted"] = report.admitted();
  json imports = json::array();
  for (const auto& line : report.imports) {
    json i;
    i["module"] = escape_untrusted(line.module);  // JSON strings must be UTF-8: escaped
    i["name"] = escape_untrusted(line.name);
    i["signature"] = line.signature;
    i["host_function"] = line.known;
    if (line.known) {
      i["capability"] = line.capability;
      i["class"] = std::string(extism::host_class_name(*line.host_class));
      i["granted"] = line.granted;
    }
    imports.push_back(std::move(i));
  }
  j["imports"] = std::move(imports);
  j["capabilities_needed"] = report.needed_capabilities;
  json hosts = json::array();
  for (const auto& h : report.hosts)
    hosts.push_back({{"host", escape_untrusted(h.host)},
                     {"found_in", escape_untrusted(h.context)},
                     {"segment", h.segment},
                     {"offset", h.offset},
                     {"allowed", h.allowed}});
  j["hosts"] = std::move(hosts);
  json memories = json::array();
  for (const auto& m : report.memories) {
    json x = {{"kind", m.kind},
              {"index", m.index},
              {"initial_bytes", m.min_bytes},
              {"imported", m.imported},
              {"within_quota", m.within_quota}};
    x["max_bytes"] = m.max_bytes ? json(*m.max_bytes) : json(nullptr);
    memories.push_back(std::move(x));
  }
  j["memories"] = std::move(memories);
  j["notes"] = report.notes;
  j["problems"] = report.problems;
  return j.dump(2);
}

}  // namespace warden::policy
