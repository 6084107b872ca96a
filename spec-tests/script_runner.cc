#include "spec-tests/script_runner.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "validator/load_module.h"

namespace warden::spec {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ScriptRunner {
 public:
  explicit ScriptRunner(fs::path dir) : dir_(std::move(dir)) {}

  void run(const json& command);
  FileResult& result() { return result_; }

 private:
  void module(const json& command);
  void assert_rejected(const json& command);
  void skip(const std::string& kind, const char* why);

  bool load(const json& command, Result<Module, LoadError>* out, std::string* io_error);
  void pass() { ++result_.passed; }
  void fail(int line, std::string text) {
    ++result_.failed;
    result_.failures.push_back({line, std::move(text)});
  }

  fs::path dir_;
  FileResult result_;
};

void ScriptRunner::run(const json& command) {
  const std::string type = command.value("type", "");
  if (type == "module") return module(command);
  if (type == "assert_malformed" || type == "assert_invalid") {
    if (command.value("module_type", "binary") == "text") {
      return skip(type, "text module: no text parser");
    }
    return assert_rejected(command);
  }
  // assert_return, assert_trap, assert_exhaustion, assert_unlinkable, assert_uninstantiable,
  // action, register, get ...: these execute code.
  skip(type, "needs interpreter");
}

bool ScriptRunner::load(const json& command, Result<Module, LoadError>* out,
                        std::string* io_error) {
  const fs::path file = dir_ / command.value("filename", "");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *io_error = "cannot read " + file.string();
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  *out = load_module(bytes);
  return true;
}

// `module`: a binary module must decode and validate.
void ScriptRunner::module(const json& command) {
  const int line = command.value("line", 0);
  if (command.value("module_type", "binary") == "text") return skip("module", "text module");
  Result<Module, LoadError> loaded = Failure{LoadError{}};
  std::string io_error;
  if (!load(command, &loaded, &io_error)) return fail(line, "FAIL module: " + io_error);
  if (!loaded) return fail(line, "FAIL module: failed to load: " + loaded.error().to_string());
  pass();
}

// `assert_malformed` / `assert_invalid` with a binary module: it must be rejected. Whether our
// message starts with the spec's text is counted separately; it does not decide pass or fail.
void ScriptRunner::assert_rejected(const json& command) {
  const int line = command.value("line", 0);
  const std::string type = command.value("type", "");
  const std::string expected = command.value("text", "");
  Result<Module, LoadError> loaded = Failure{LoadError{}};
  std::string io_error;
  if (!load(command, &loaded, &io_error)) return fail(line, "FAIL " + type + ": " + io_error);
  if (loaded) return fail(line, "FAIL " + type + ": expected rejection \"" + expected + "\"");
  pass();
  ++result_.rejections;
  const std::string& message = loaded.error().message();
  if (message.starts_with(expected)) {
    ++result_.rejections_matching;
  } else {
    result_.mismatches.push_back({line, expected, message});
  }
}

void ScriptRunner::skip(const std::string& kind, const char* why) {
  ++result_.skipped;
  ++result_.skipped_by_kind[kind + " (" + why + ")"];
}

}  // namespace

FileResult run_script(const fs::path& json_file) {
  ScriptRunner runner(json_file.parent_path());
  std::ifstream in(json_file);
  json script = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (script.is_discarded() || !script.contains("commands")) {
    FileResult result;
    result.failed = 1;
    result.failures.push_back({0, "FAIL cannot parse " + json_file.string()});
    return result;
  }
  for (const json& command : script["commands"]) runner.run(command);
  return std::move(runner.result());
}

}  // namespace warden::spec
