#include "tools/gate_args.h"

namespace warden::cli {

void GateArgs::add_to(CLI::App& app) {
  app.add_option("--policy", policy_file);
  app.add_option("--signature", signature_file);
  app.add_option("--plugin-id", identity.plugin_id);
  app.add_option("--tier", identity.tier);
  app.add_option("--source", identity.source);
}

std::optional<std::string> GateArgs::problem() const {
  const int identities = int(identity.plugin_id.has_value()) + int(identity.tier.has_value()) +
                         int(identity.source.has_value());
  if (identities > 1) return "give at most one of --plugin-id, --tier and --source";
  if ((identities > 0 || !signature_file.empty()) && policy_file.empty())
    return "--plugin-id, --tier, --source and --signature need --policy";
  return std::nullopt;
}

}  // namespace warden::cli
