// The options of every command that judges a plugin under a tier policy (call, audit):
// --policy FILE, at most one of --plugin-id / --tier / --source, and --signature SIG.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "policy/gate.h"

namespace warden::cli {

struct GateArgs {
  std::string policy_file, signature_file;
  policy::PluginIdentity identity;  // none given: the policy's default_tier

  // Adds --policy, --plugin-id, --tier, --source and --signature to a command's options.
  void add_to(CLI::App& app);
  // The usage error of a combination that cannot work, or nullopt.
  std::optional<std::string> problem() const;
};

}  // namespace warden::cli
