// warden validate FILE...: decode and validate modules; one error line per invalid file.
#include <fmt/core.h>

#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "tools/command_line.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"(usage: warden validate [-v] FILE...

Decodes and validates each WebAssembly binary (Wasm 2.0, SIMD included).
Prints nothing and exits 0 when every file is valid. For each file that is not,
prints one line `FILE:0xOFFSET: error: MESSAGE` (the byte offset of the fault) and
exits 1. A file that cannot be read is reported as `FILE: error: cannot read: ...`.

options (`--` ends them, so a FILE may start with -):
  -v, --verbose   also print `FILE: ok` for valid files
  -h, --help      show this help
)";

}  // namespace

int validate_command(const std::vector<std::string>& args) {
  bool verbose = false;
  CommandLine cl("validate", kHelp);
  cl.app.add_flag("-v,--verbose", verbose);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  const std::vector<std::string>& files = parsed.positionals;
  if (files.empty()) return usage_error("validate", "no FILE given");
  int status = kExitOk;
  for (const std::string& file : files) {
    std::vector<uint8_t> bytes;
    if (!read_file(file, bytes)) {
      status = kExitFailure;
      continue;
    }
    auto loaded = load_module(bytes);
    if (!loaded) {
      fmt::print("{}\n", format_load_error(file, loaded.error()));
      status = kExitFailure;
    } else if (verbose) {
      fmt::print("{}: ok\n", escape_untrusted(file));
    }
  }
  return status;
}

}  // namespace warden::cli
