// warden policy check FILE...: tier policies and per-plugin threat-model documents, checked for
// syntax, types, units, unknown keys and capabilities, and for consistency (tier creep).
#include <fmt/core.h>

#include <ctime>
#include <filesystem>

#include "decoder/untrusted_text.h"
#include "policy/gate.h"
#include "tools/cli.h"
#include "tools/command_line.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"help(usage: warden policy check FILE...

Checks tier policies (documents with `tiers:`) and per-plugin threat-model documents (with
`plugin_id:`; a directory is every *.yaml and *.yml in it): unknown keys, wrong types, bad
units, unknown capabilities, and consistency: a plugin document may only narrow its tier
("tier creep" otherwise), plugin ids are unique, named tiers exist, keys and schemas exist.
A tier policy's own `plugins:` documents are checked with it; plugin documents given on the
command line are checked against the tier policies given with them. Expired reviews warn.

Errors are printed as FILE:LINE:COLUMN: MESSAGE.

options:
  -h, --help   show this help

exit status: 0 when every document is valid and consistent, 1 otherwise, 2 for usage errors.
)help";

}  // namespace

int policy_command(const std::vector<std::string>& args) {
  CommandLine cl("policy", kHelp);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  if (parsed.positionals.empty())
    return usage_error("policy", "expected a subcommand: check FILE...");
  if (parsed.positionals[0] != "check")
    return usage_error("policy",
                       "unknown subcommand '" + escape_untrusted(parsed.positionals[0]) + "'");
  std::vector<std::string> files(parsed.positionals.begin() + 1, parsed.positionals.end());
  if (files.empty()) return usage_error("policy", "check needs at least one FILE");

  bool ok = true;
  std::vector<policy::TierPolicy> tier_policies;
  std::vector<policy::PluginDocument> loose_documents;
  auto report = [&](const std::vector<policy::PolicyError>& errors) {
    for (const policy::PolicyError& e : errors) fmt::print(stderr, "{}\n", e.text());
    if (!errors.empty()) ok = false;
  };
  for (const std::string& file : files) {
    std::vector<uint8_t> bytes;
    std::error_code ec;
    policy::DocumentKind kind = policy::DocumentKind::PluginDocument;  // a directory of them
    if (!std::filesystem::is_directory(file, ec)) {
      if (std::string reason; !read_file(file, bytes, reason)) {
        fmt::print(stderr, "{}: cannot read: {}\n", escape_untrusted(file), reason);
        ok = false;
        continue;
      }
      kind = policy::document_kind({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    }
    if (kind == policy::DocumentKind::TierPolicy) {
      // The tier policy with its own plugin documents, keys and schemas.
      auto loaded = policy::Policy::load(file);
      if (!loaded) {
        report(loaded.error());
        continue;
      }
      report({});
      for (const policy::PolicyError& w : loaded->warnings()) fmt::print(stderr, "{}\n", w.text());
      fmt::print("{}: ok (tier policy: {} tiers, {} plugin documents)\n", escape_untrusted(file),
                 loaded->tiers().tiers.size(), loaded->documents().size());
      tier_policies.push_back(loaded->tiers());
    } else if (kind == policy::DocumentKind::PluginDocument) {
      auto docs = policy::load_plugin_documents(file);
      if (!docs) {
        report(docs.error());
        continue;
      }
      fmt::print("{}: ok ({} plugin document{})\n", escape_untrusted(file), docs->size(),
                 docs->size() == 1 ? "" : "s");
      for (auto& d : *docs) loose_documents.push_back(std::move(d));
    } else {
      fmt::print(stderr,
                 "{}: neither a tier policy (`tiers:`) nor a plugin document (`plugin_id:`)\n",
                 escape_untrusted(file));
      ok = false;
    }
  }
  // Plugin documents named on the command line, against the tier policies named with them.
  if (!loose_documents.empty()) {
    if (tier_policies.empty()) {
      fmt::print(stderr,
                 "note: no tier policy given: the plugin documents were checked on their own, "
                 "not against their tiers\n");
    }
    for (const policy::TierPolicy& tiers : tier_policies) {
      for (const policy::PluginDocument& d : loose_documents)
        report(policy::check_within_tier(d, tiers));
      report(policy::check_documents(tiers, loose_documents));
    }
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char today[16];
    std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
    for (const policy::PolicyError& w : policy::review_warnings(loose_documents, today))
      fmt::print(stderr, "{}\n", w.text());
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace warden::cli
