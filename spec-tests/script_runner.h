// Executes the commands of one converted spec script (wast2json's JSON) and counts the results.
// Each command kind has its own function. Modules are instantiated against the `spectest` host
// module and whatever earlier modules were registered.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace warden::spec {

struct CommandFailure {
  int line = 0;
  std::string text;  // "FAIL assert_invalid: expected rejection \"type mismatch\""
};

struct MessageMismatch {
  int line = 0;
  std::string expected;
  std::string actual;
};

struct FileResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<CommandFailure> failures;
  std::map<std::string, int> skipped_by_kind;  // "assert_return" -> count
  int rejections = 0;                          // rejected assert_malformed/assert_invalid
  int rejections_matching = 0;                 // ... whose message starts with the spec's text
  std::vector<MessageMismatch> mismatches;
};

struct RunOptions {
  bool fuel = false;  // compile with metering; every action gets `fuel_budget`
  uint64_t fuel_budget = 1'000'000'000'000;
};

// Runs every command of `json` (the .wasm files it names live beside it).
FileResult run_script(const std::filesystem::path& json, const RunOptions& options = {});

}  // namespace warden::spec
