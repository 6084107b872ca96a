#include "tools/command_line.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "decoder/untrusted_text.h"
#include "tools/cli.h"

namespace warden::cli {
namespace {

bool looks_like_option(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

// WARDEN_CHECK_HELP=1 (set by a CLI test): --help fails unless the hand-written help names
// every option the parser accepts, so the help cannot fall behind the parser.
std::optional<std::string> option_missing_from_help(const CLI::App& app, std::string_view help) {
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) {
      if (help.find("--" + name) == std::string_view::npos) return "--" + name;
    }
    for (const std::string& name : option->get_snames()) {
      if (help.find("-" + name) == std::string_view::npos) return "-" + name;
    }
  }
  return std::nullopt;
}

}  // namespace

CommandLine::CommandLine(std::string command_name, std::string_view help_text)
    : app("", "warden " + command_name), command(std::move(command_name)), help(help_text) {
  app.set_help_flag("-h,--help");
  // Unknown arguments are left for parse() to name, rather than CLI11's "not expected" list.
  app.allow_extras(true);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

CommandLine::Parsed CommandLine::parse(const std::vector<std::string>& args,
                                       bool stop_at_first_positional) {
  Parsed out;
  app.prefix_command(stop_at_first_positional);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    if (const char* check = std::getenv("WARDEN_CHECK_HELP"); check && *check == '1') {
      if (auto missing = option_missing_from_help(app, help)) {
        fmt::print(stderr, "warden {} --help does not mention {}\n", command, *missing);
        out.exit_status = 3;
        return out;
      }
    }
    fmt::print("{}", help);
    out.exit_status = kExitOk;
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_status = usage_error(command, escape_untrusted(e.what()));
    return out;
  }
  std::vector<std::string> rest = app.remaining();
  size_t i = 0;
  if (stop_at_first_positional) {
    // The first remaining argument is the first positional, unless it is an unknown option.
    if (i < rest.size() && rest[i] == "--") {
      ++i;
    } else if (i < rest.size() && looks_like_option(rest[i])) {
      out.exit_status = usage_error(command, "unknown option '" + escape_untrusted(rest[i]) + "'");
      return out;
    }
    out.positionals.assign(rest.begin() + static_cast<long>(i), rest.end());
    return out;
  }
  bool after_dashes = false;
  for (const std::string& arg : rest) {
    if (!after_dashes && arg == "--") {
      after_dashes = true;
    } else if (!after_dashes && looks_like_option(arg)) {
      out.exit_status = usage_error(command, "unknown option '" + escape_untrusted(arg) + "'");
      return out;
    } else {
      out.positionals.push_back(arg);
    }
  }
  return out;
}

}  // namespace warden::cli
