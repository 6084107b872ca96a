// warden audit PLUGIN --policy FILE: the static report of what a plugin imports and needs, what
// its tier grants, the hosts its data names, its memories against the quota; admitted or not.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "decoder/untrusted_text.h"
#include "hostabi/manifest.h"
#include "policy/gate.h"
#include "tools/cli.h"
#include "tools/command_line.h"
#include "tools/gate_args.h"
#include "validator/load_module.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp =
    R"help(usage: warden audit PLUGIN [--policy FILE [--plugin-id ID | --tier NAME | --source NAME]]
                    [--signature SIG] [--json]

Static analysis of a plugin (a .wasm file) before it runs: every import with the capability
and class of its host function and whether the policy grants it; the capabilities the plugin
needs (grant exactly these); URLs and host names in its data segments against the allowed
hosts; its memories and tables against the memory quota; the signature when the tier requires
one. Nothing is executed.

  --policy FILE      judge the plugin under this tier policy (docs/policy.md); without it the
                     report lists what the plugin needs and admits everything
  --plugin-id ID     the plugin of document ID; --tier NAME: a plugin in tier NAME;
  --source NAME      a plugin from source NAME; none: the policy's default_tier
  --signature SIG    verify this signature with the tier's keys
  --json             the report as JSON
  -h, --help         show this help

exit status: 0 when the plugin would be admitted, 1 when it would be refused (the reasons are
printed) or cannot be read, 2 for usage errors.
)help";

}  // namespace

int audit_command(const std::vector<std::string>& args) {
  GateArgs gate;
  bool json = false;
  CommandLine cl("audit", kHelp);
  cl.app.add_flag("--json", json);
  gate.add_to(cl.app);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  const std::vector<std::string>& positional = parsed.positionals;
  if (positional.size() != 1) return usage_error("audit", "expected one PLUGIN");
  if (auto problem = gate.problem()) return usage_error("audit", *problem);
  const std::string& file = positional[0];
  std::vector<uint8_t> bytes;
  if (std::string reason; !read_file(file, bytes, reason)) {
    fmt::print(stderr, "error: {}: cannot read: {}\n", escape_untrusted(file), reason);
    return kExitFailure;
  }
  auto module = load_module(bytes);
  if (!module) {
    fmt::print(stderr, "{}\n", format_load_error(file, module.error()));
    return kExitFailure;
  }

  std::optional<policy::Policy> loaded;
  std::optional<policy::Admission> admission;
  if (!gate.policy_file.empty()) {
    auto p = policy::Policy::load(gate.policy_file);
    if (!p) {
      for (const policy::PolicyError& e : p.error()) fmt::print(stderr, "{}\n", e.text());
      fmt::print(stderr, "error: the policy is not valid; see `warden policy check`\n");
      return kExitFailure;
    }
    loaded = std::move(*p);
    for (const policy::PolicyError& w : loaded->warnings()) fmt::print(stderr, "{}\n", w.text());
    auto a = loaded->admit(gate.identity);
    if (!a) {
      fmt::print(stderr, "error: {}\n", a.error().message);
      return kExitFailure;
    }
    admission = std::move(*a);
  }

  // The supply chain first: a DSSE statement bounds the grants the imports are judged by.
  std::string signature_line;
  std::vector<std::string> signature_problems;
  if (admission) {
    std::optional<std::vector<uint8_t>> signature;
    std::string reason;
    if (!gate.signature_file.empty() &&
        !read_file(gate.signature_file, signature.emplace(), reason, policy::kMaxSignatureBytes)) {
      signature_problems.push_back("signature " + escape_untrusted(gate.signature_file) +
                                   ": cannot read: " + reason);
    } else if (auto verified =
                   policy::check_signature(*admission, bytes, signature, admission->grants);
               !verified) {
      signature_problems.push_back(verified.error().message);
    } else if (*verified) {
      signature_line = std::string(policy::signature_format_name((*verified)->format)) +
                       " signature by key " + (*verified)->key.key_id;
      if ((*verified)->statement)
        signature_line += ", for " + quote_untrusted((*verified)->statement->name) + " " +
                          quote_untrusted((*verified)->statement->version) +
                          " (the grants are bounded by its capabilities)";
    }
  }

  policy::AuditInput input;
  if (admission) {
    input.grants = &admission->grants;
    input.allowed_hosts = &admission->allowed_hosts;
    input.quota = &admission->quota;
    input.strict_hosts = admission->supply_chain.static_analysis == policy::Requirement::Required;
  }
  policy::AuditReport report = policy::audit_module(
      *module, input, admission && admission->grants.deny == extism::DenyMode::AtCall);
  report.module_name = file;
  for (std::string& problem : signature_problems) report.problems.push_back(std::move(problem));

  if (json) {
    auto j = nlohmann::json::parse(policy::audit_json(report));
    j["plugin"] = escape_untrusted(file);
    j["sha256"] = extism::sha256_hex(bytes);
    if (admission) {
      j["tier"] = escape_untrusted(admission->tier);
      j["plugin_id"] = escape_untrusted(admission->plugin_id);
      j["deny"] = admission->grants.deny == extism::DenyMode::AtCall ? "at_call" : "at_link";
      auto granted = nlohmann::json::array();
      for (const std::string& c : *admission->grants.capabilities)
        granted.push_back(escape_untrusted(c));
      j["granted"] = std::move(granted);
    }
    if (!signature_line.empty()) j["signature"] = signature_line;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("plugin: {} (sha256 {})\n", escape_untrusted(file), extism::sha256_hex(bytes));
    if (admission) {
      fmt::print("policy: {}, tier {}{}, deny: {}\n", escape_untrusted(gate.policy_file),
                 escape_untrusted(admission->tier),
                 admission->plugin_id.empty() ? std::string()
                                              : ", plugin " + quote_untrusted(admission->plugin_id),
                 admission->grants.deny == extism::DenyMode::AtCall ? "at_call" : "at_link");
      std::string granted;
      for (const std::string& c : *admission->grants.capabilities)
        granted += (granted.empty() ? "" : " ") + escape_untrusted(c);
      fmt::print("granted: {}\n", granted);
    } else {
      fmt::print("policy: none (report only: everything counts as granted)\n");
    }
    if (!signature_line.empty()) fmt::print("signature: {}\n", signature_line);
    fmt::print("{}", policy::audit_text(report));
  }
  return report.admitted() ? kExitOk : kExitFailure;
}

}  // namespace warden::cli
