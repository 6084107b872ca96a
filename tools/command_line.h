// Command lines of every warden subcommand, parsed with CLI11: `--flag=value`, `-ivalue`, `--`,
// grouped short flags, and usage errors (exit 2) that name the argument at fault.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::cli {

// A parser for `warden COMMAND`, with the settings every command shares: -h/--help prints
// `help` (each command's hand-written text), a repeated single-valued option keeps its last
// value, a repeatable option takes one value per occurrence.
struct CommandLine {
  CommandLine(std::string command, std::string_view help);

  CLI::App app;
  std::string command;
  std::string_view help;

  // A repeatable option: each occurrence adds one value.
  template <typename T>
  CLI::Option* add_list(const std::string& names, std::vector<T>& values,
                        const std::string& what = "") {
    return app.add_option(names, values, what)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }

  // Parses `args` into the options; the positionals left are returned in order (after a `--`,
  // everything is positional). With `stop_at_first_positional`, the first positional and
  // everything after it are left unparsed (`warden run MODULE ARGS...`: ARGS are the guest's).
  // On --help or a usage error, returns the exit status instead (0 or 2) and has printed why.
  struct Parsed {
    std::vector<std::string> positionals;
    std::optional<int> exit_status;
  };
  Parsed parse(const std::vector<std::string>& args, bool stop_at_first_positional = false);
};

}  // namespace warden::cli
