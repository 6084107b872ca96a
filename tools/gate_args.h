// The options of every command that judges a plugin under a tier policy (call, audit):
// --policy FILE, at most one of --plugin-id / --tier / --source, and --signature SIG.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/gate.h"

namespace warden::cli {

struct GateArgs {
  std::string policy_file, signature_file;
  policy::PluginIdentity identity;  // none given: the policy's default_tier
  int identities = 0;

  // When args[i] is one of these options, consumes it and its value (advancing i) and returns
  // true; `error` is then a usage message if the value is missing, else empty.
  bool take(const std::vector<std::string>& args, size_t& i, std::string& error);
  // The usage error of a combination that cannot work, or nullopt.
  std::optional<std::string> problem() const;
};

}  // namespace warden::cli
