// warden: the command-line front end.
#include <fmt/core.h>

#include <string>
#include <vector>

#include "tools/cli.h"

namespace {

constexpr const char* kUsage = R"(usage: warden COMMAND [ARGS...]

warden is a WebAssembly sandbox VM. Commands:
  validate FILE...        decode and validate modules; report the first error of each
  inspect FILE [--json]   show a module's contents and the host capabilities it requests
  run MODULE [ARGS...]    run a WASI program's _start (or --invoke an export) with limits
  call PLUGIN FUNCTION    call an Extism plugin's function (flags as `extism call`);
                          with --policy, under the capability gate
  audit PLUGIN --policy F what a plugin imports, needs and would be granted; admitted or not
  policy check FILE...    validate tier policies and per-plugin threat-model documents
  sign --key K PLUGIN     sign a plugin (ed25519, cosign-compatible ECDSA, or a DSSE envelope)
  verify --key K --signature S PLUGIN
                          verify a plugin's signature
  serve --policy F --plugins DIR
                          run plugins for many tenants behind HTTP (calls, /metrics)

Run 'warden COMMAND --help' for a command's options.
  --version   print the version
  --help      show this help
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace warden::cli;
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    fmt::print("{}", kUsage);
    return kExitOk;
  }
  if (command == "--version") {
    fmt::print("warden {}\n", WARDEN_VERSION);
    return kExitOk;
  }
  if (command == "validate") return validate_command(args);
  if (command == "inspect") return inspect_command(args);
  if (command == "run") return run_command(args);
#if WARDEN_ALL_COMMANDS
#define WARDEN_DISPATCH(name, function) \
  if (command == name) return function(args);
  WARDEN_FULL_COMMANDS(WARDEN_DISPATCH)
#undef WARDEN_DISPATCH
#else
  if (is_full_command(command)) return exec_full_commands(argv);
#endif
  fmt::print(stderr, "warden: unknown command '{}'\n\n{}", command, kUsage);
  return kExitUsage;
}
