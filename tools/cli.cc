#include "tools/cli.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace warden::cli {

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "{}: error: cannot read: {}\n", path, std::strerror(errno));
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) {
    fmt::print(stderr, "{}: error: cannot read: {}\n", path, std::strerror(errno));
    return false;
  }
  return true;
}

std::string format_load_error(const std::string& path, const LoadError& error) {
  return fmt::format("{}:0x{:x}: error: {}", path, error.offset(), error.message());
}

int usage_error(const std::string& command, const std::string& message) {
  fmt::print(stderr, "warden {}: {}\nRun 'warden {} --help' for usage.\n", command, message,
             command);
  return kExitUsage;
}

}  // namespace warden::cli
