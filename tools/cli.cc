#include "tools/cli.h"

#include "decoder/untrusted_text.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace warden::cli {

// Regular files are read in one call; pipes and devices (/dev/stdin) are streamed.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& reason) {
  auto fail = [&](const char* why) {
    reason = why;
    return false;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("Is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  if (std::filesystem::is_regular_file(path, ec)) {
    out.resize(static_cast<size_t>(std::filesystem::file_size(path, ec)));
    if (ec) return fail(ec.message().c_str());
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  } else {
    out.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (in.bad() || (in.fail() && !in.eof())) return fail(std::strerror(errno));
  return true;
}

// Reads at most limit + 1 bytes: a longer file is refused without reading the rest.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& reason,
               size_t limit) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    reason = "Is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reason = std::strerror(errno);
    return false;
  }
  out.resize(limit + 1);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (in.bad()) {
    reason = std::strerror(errno);
    return false;
  }
  out.resize(static_cast<size_t>(in.gcount()));
  if (out.size() > limit) {
    reason = "the file is over " + std::to_string(limit) + " bytes";
    return false;
  }
  return true;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::string reason;
  if (read_file(path, out, reason)) return true;
  fmt::print(stderr, "{}: error: cannot read: {}\n", escape_untrusted(path), reason);
  return false;
}

std::string format_load_error(const std::string& path, const LoadError& error) {
  return fmt::format("{}:0x{:x}: error: {}", escape_untrusted(path), error.offset(),
                     error.message());
}

int usage_error(const std::string& command, const std::string& message) {
  fmt::print(stderr, "warden {}: {}\nRun 'warden {} --help' for usage.\n", command, message,
             command);
  return kExitUsage;
}

}  // namespace warden::cli
