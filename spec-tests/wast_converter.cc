#include "spec-tests/wast_converter.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace warden::spec {
namespace fs = std::filesystem;

namespace {

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// Runs argv[0] with arguments (no shell), stderr to `stderr_file`. Returns the exit status.
int run(const std::vector<std::string>& args, const fs::path& stderr_file) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool wast2json_available() { return !find_on_path("wast2json").empty(); }

Conversion convert_wast(const fs::path& wast, const fs::path& work_dir) {
  Conversion result;
  const std::string name = wast.stem().string();
  const fs::path dir = work_dir / name;
  result.json = dir / (name + ".json");
  std::error_code ec;
  if (fs::exists(result.json, ec) &&
      fs::last_write_time(result.json, ec) >= fs::last_write_time(wast, ec) && !ec) {
    result.ok = true;
    return result;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    result.error = "cannot create " + dir.string() + ": " + ec.message();
    return result;
  }
  const std::string tool = find_on_path("wast2json");
  if (tool.empty()) {
    result.error = "wast2json not found: install Debian's wabt (apt-get install -y wabt)";
    return result;
  }
  const fs::path log = dir / "wast2json.stderr";
  const int status =
      run({tool, "--enable-relaxed-simd", wast.string(), "-o", result.json.string()}, log);
  if (status != 0) {
    fs::remove(result.json, ec);  // never leave a half-written conversion to be reused
    result.error = "wast2json failed (status " + std::to_string(status) + "): " + read_text(log);
    return result;
  }
  result.ok = true;
  return result;
}

}  // namespace warden::spec
