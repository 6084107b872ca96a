// Placeholder: replaced by the signature work.
#include "tools/cli.h"
namespace warden::cli {
int sign_command(const std::vector<std::string>&) { return kExitUsage; }
int verify_command(const std::vector<std::string>&) { return kExitUsage; }
}  // namespace warden::cli
