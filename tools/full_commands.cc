// The core `warden` binary hands the commands it does not contain to warden-full, so that
// `warden run` and `warden validate` never load libcurl, OpenSSL or the HTTP server.
#include <fmt/core.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "tools/cli.h"

namespace warden::cli {

bool is_full_command(const std::string& command) {
#define WARDEN_IS(name, function) \
  if (command == name) return true;
  WARDEN_FULL_COMMANDS(WARDEN_IS)
#undef WARDEN_IS
  return false;
}

int exec_full_commands(char** argv) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string exe = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  const size_t slash = exe.rfind('/');  // "" for a binary in "/"
  const std::string dir = slash == std::string::npos ? std::string(".") : exe.substr(0, slash);
  // Beside this binary in the build tree; under libexec in an installed tree.
  const std::array<std::string, 2> candidates = {dir + "/warden-full",
                                                 dir + "/../libexec/warden/warden-full"};
  int first_error = ENOENT;
  for (const std::string& path : candidates) {
    execv(path.c_str(), argv);
    if (errno != ENOENT && first_error == ENOENT) first_error = errno;
  }
  fmt::print(stderr,
             "warden: '{}' is a command of warden-full, which cannot be executed ({}); looked "
             "for {} and {}: reinstall warden\n",
             argv[1], std::strerror(first_error), candidates[0], candidates[1]);
  return kExitFailure;
}

}  // namespace warden::cli
