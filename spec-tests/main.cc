// warden-spec: runs WebAssembly spec test scripts (.wast) against warden.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "spec-tests/script_runner.h"
#include "spec-tests/wast_converter.h"

namespace fs = std::filesystem;
using namespace warden::spec;

namespace {

constexpr const char* kUsage = R"(usage: warden-spec [options] FILE.wast|DIR...

Runs WebAssembly spec test scripts against warden. Each script is converted with wabt's
wast2json into the work directory (re-converted only when the script is newer), then its
commands are executed. A DIR means every *.wast directly inside it.

Relative paths that do not exist are looked up in the test suite: $WARDEN_TESTSUITE, else
the suite configured at build time (--suite overrides both).

Every command is executed: modules are decoded, validated, compiled and instantiated (against
the `spectest` host module and registered modules); assert_return compares bit-exactly (with
nan:canonical / nan:arithmetic), assert_trap and assert_exhaustion match the trap message,
assert_unlinkable / assert_uninstantiable must fail to instantiate; v128 results lane by lane,
and a relaxed instruction's result must be one of the script's `either` choices. Skipped: text
modules (no text parser).

Output: one line per file `NAME: P passed, F failed, S skipped`, then
`spec: P passed, F failed, S skipped`.

options:
  --suite DIR           test suite root (default: $WARDEN_TESTSUITE or the build's setting)
  --work-dir DIR        where converted scripts go (default: the build's spec-work dir)
  --known-failures FILE failures to tolerate, one NAME:LINE per line (default: the repo's)
  --fuel                compile with fuel metering and give every action a budget of 10^12
  --messages            also report how many rejection messages start with the spec's text
  -v, --verbose         list each failure, each message mismatch and skipped counts by kind
  -h, --help            show this help

exit status: 0 when every failure is a known failure, 1 otherwise, 2 for usage errors or a
missing test suite or wast2json.
)";

struct Options {
  fs::path suite;
  fs::path work_dir = WARDEN_SPEC_WORK_DIR;
  fs::path known_failures = WARDEN_SPEC_KNOWN_FAILURES;
  bool verbose = false;
  bool messages = false;
  bool fuel = false;
  std::vector<std::string> inputs;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "warden-spec: %s\n(see warden-spec --help)\n", message.c_str());
  return 2;
}

fs::path default_suite() {
  const char* env = std::getenv("WARDEN_TESTSUITE");
  return env && *env ? fs::path(env) : fs::path(WARDEN_SPEC_DEFAULT_SUITE);
}

bool parse_options(int argc, char** argv, Options& opt, int& exit_code) {
  opt.suite = default_suite();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](fs::path& out) {
      if (i + 1 >= argc) return (exit_code = usage_error(arg + " needs a value")), false;
      out = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return false;
    } else if (arg == "-v" || arg == "--verbose") {
      opt.verbose = true;
    } else if (arg == "--fuel") {
      opt.fuel = true;
    } else if (arg == "--messages") {
      opt.messages = true;
    } else if (arg == "--suite" || arg == "--work-dir" || arg == "--known-failures") {
      fs::path& target = arg == "--suite"      ? opt.suite
                         : arg == "--work-dir" ? opt.work_dir
                                               : opt.known_failures;
      if (!value(target)) return false;
    } else if (arg.starts_with("-")) {
      exit_code = usage_error("unknown option " + arg);
      return false;
    } else {
      opt.inputs.push_back(arg);
    }
  }
  if (opt.inputs.empty()) {
    exit_code = usage_error("no .wast file or directory given");
    return false;
  }
  return true;
}

int missing_suite(const Options& opt, const std::string& input) {
  std::fprintf(stderr,
               "warden-spec: %s not found, and the test suite is not at %s.\n"
               "Get it: clone https://github.com/WebAssembly/testsuite at the commit named in\n"
               "../shared/wasm-testsuite/README.md (core = "
               "a8101597d3c3c660086c3cd1eedee608ff18d3c3) and set WARDEN_TESTSUITE to it.\n",
               input.c_str(), opt.suite.string().c_str());
  return 2;
}

// Expands inputs to .wast files; relative inputs that don't exist are looked up in the suite.
bool collect_scripts(const Options& opt, std::vector<fs::path>& out, int& exit_code) {
  for (const std::string& input : opt.inputs) {
    fs::path path = input;
    std::error_code ec;
    if (!fs::exists(path, ec) && path.is_relative()) path = opt.suite / input;
    if (!fs::exists(path, ec)) {
      exit_code = fs::exists(opt.suite, ec) ? usage_error(input + ": no such file or directory")
                                            : missing_suite(opt, input);
      return false;
    }
    if (!fs::is_directory(path, ec)) {
      out.push_back(path);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".wast") found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return true;
}

// "core/i32.wast" for files inside the suite, else the path as given.
std::string display_name(const Options& opt, const fs::path& script) {
  std::error_code ec;
  const fs::path suite = fs::weakly_canonical(opt.suite, ec);
  const fs::path file = fs::weakly_canonical(script, ec);
  const fs::path rel = file.lexically_relative(suite);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return script.generic_string();
}

std::set<std::string> load_known_failures(const fs::path& file) {
  std::set<std::string> known;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) known.insert(line);
  }
  return known;
}

void print_details(const std::string& name, const FileResult& r, bool verbose) {
  if (!verbose) return;
  for (const auto& f : r.failures) std::printf("%s:%d: %s\n", name.c_str(), f.line, f.text.c_str());
  for (const auto& m : r.mismatches) {
    std::printf("%s:%d: message: expected \"%s\", got \"%s\"\n", name.c_str(), m.line,
                m.expected.c_str(), m.actual.c_str());
  }
  for (const auto& [kind, count] : r.skipped_by_kind) {
    std::printf("%s: skipped %d %s\n", name.c_str(), count, kind.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  int exit_code = 0;
  if (!parse_options(argc, argv, opt, exit_code)) return exit_code;
  std::vector<fs::path> scripts;
  if (!collect_scripts(opt, scripts, exit_code)) return exit_code;
  if (!wast2json_available()) {
    std::fprintf(stderr,
                 "warden-spec: wast2json not found: install Debian's wabt (apt-get install -y "
                 "wabt)\n");
    return 2;
  }
  const std::set<std::string> known = load_known_failures(opt.known_failures);
  FileResult total;
  int unexpected = 0;
  for (const fs::path& script : scripts) {
    const std::string name = display_name(opt, script);
    const Conversion conv = convert_wast(script, opt.work_dir);
    FileResult r = conv.ok ? run_script(conv.json, RunOptions{.fuel = opt.fuel}) : FileResult{};
    if (!conv.ok) {
      r.failed = 1;
      r.failures.push_back({0, "FAIL conversion: " + conv.error});
    }
    print_details(name, r, opt.verbose);
    std::printf("%s: %d passed, %d failed, %d skipped\n", name.c_str(), r.passed, r.failed,
                r.skipped);
    for (const auto& f : r.failures) {
      unexpected += !known.contains(name + ":" + std::to_string(f.line));
    }
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
    total.rejections += r.rejections;
    total.rejections_matching += r.rejections_matching;
  }
  std::printf("spec: %d passed, %d failed, %d skipped\n", total.passed, total.failed,
              total.skipped);
  if (opt.messages) {
    const double pct =
        total.rejections ? 100.0 * total.rejections_matching / total.rejections : 100.0;
    std::printf("messages: %d of %d rejections match the spec text (%.1f%%)\n",
                total.rejections_matching, total.rejections, pct);
  }
  return unexpected ? 1 : 0;
}
