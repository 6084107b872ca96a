#include "tools/gate_args.h"

namespace warden::cli {

bool GateArgs::take(const std::vector<std::string>& args, size_t& i, std::string& error) {
  const std::string& a = args[i];
  std::string* file = a == "--policy"      ? &policy_file
                      : a == "--signature" ? &signature_file
                                           : nullptr;
  std::optional<std::string>* name = a == "--plugin-id" ? &identity.plugin_id
                                     : a == "--tier"    ? &identity.tier
                                     : a == "--source"  ? &identity.source
                                                        : nullptr;
  if (!file && !name) return false;
  if (i + 1 >= args.size()) {
    error = a + (file ? " needs a FILE" : " needs a name");
    return true;
  }
  ++i;
  if (file) {
    *file = args[i];
  } else {
    *name = args[i];
    ++identities;
  }
  return true;
}

std::optional<std::string> GateArgs::problem() const {
  if (identities > 1) return "give at most one of --plugin-id, --tier and --source";
  if ((identities > 0 || !signature_file.empty()) && policy_file.empty())
    return "--plugin-id, --tier, --source and --signature need --policy";
  return std::nullopt;
}

}  // namespace warden::cli
