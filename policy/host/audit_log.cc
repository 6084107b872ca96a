#include "policy/host/audit_log.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "decoder/untrusted_text.h"

namespace warden::host {
namespace {

using json = nlohmann::json;

// RFC 3339 UTC with milliseconds.
std::string now_text() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(ms));
  return out;
}

// Guest and caller text is escaped before it becomes part of a record: the log is read on
// terminals and by tools that split on lines.
std::string text(std::string_view bytes) { return escape_untrusted(bytes, 4096); }
// An error message is already escaped where it was made (the library's errors quote guest bytes
// with quote_untrusted): cut, not escaped twice. The dump below replaces any invalid UTF-8.
std::string message_text(std::string_view message) { return std::string(message.substr(0, 4096)); }
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Writing to a closed pipe must fail with EPIPE, not kill the process: SIGPIPE is blocked on
// this thread for the write, and a pending one is consumed.
ssize_t write_without_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n;
  do {
    n = ::write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && saved == EPIPE) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) > 0) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

}  // namespace

Result<std::unique_ptr<AuditLog>, std::string> AuditLog::open(const std::string& path,
                                                              AuditOptions options) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Failure{"audit log " + escape_untrusted(path) +
                   ": cannot open: " + std::strerror(errno)};
  return std::unique_ptr<AuditLog>(new AuditLog(fd, path, options));
}

AuditLog::~AuditLog() { ::close(fd_); }

bool AuditLog::write_line(std::string line) {
  line += '\n';
  std::lock_guard lock(mutex_);
  // One write: with O_APPEND the line lands whole, after every earlier one. A short write is a
  // failure (the rest is not retried: a torn line is worse than a missing one).
  const ssize_t n = write_without_sigpipe(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    ++failures_;
    return false;
  }
  ++records_;
  return true;
}

bool AuditLog::invocation(const InvocationRecord& r) {
  json j = {{"time", now_text()},
            {"event", "invocation"},
            {"plugin", text(r.plugin_id)},
            {"version", text(r.version)},
            {"tenant", text(r.tenant_id)},
            {"function", text(r.function)},
            {"outcome", std::string(r.outcome)}};
  if (r.outcome != "started") {
    j["duration_ms"] = r.duration_ms;
    j["fuel"] = r.fuel;
    j["memory_pages"] = r.memory_pages;
  }
  if (!r.message.empty()) j["message"] = message_text(r.message);
  return write_line(dump(j));
}

bool AuditLog::denial(const DenialRecord& r) {
  json j = {{"time", now_text()},          {"event", "denial"},
            {"plugin", text(r.plugin_id)}, {"tenant", text(r.tenant_id)},
            {"kind", std::string(r.kind)}, {"message", message_text(r.message)}};
  if (!r.function.empty()) j["function"] = text(r.function);
  if (!r.capability.empty()) j["capability"] = text(r.capability);
  if (!r.target.empty()) j["target"] = text(r.target);
  return write_line(dump(j));
}

bool AuditLog::host_call(const HostCallRecord& r) {
  const json j = {{"time", now_text()},
                  {"event", "host_call"},
                  {"plugin", text(r.plugin_id)},
                  {"tenant", text(r.tenant_id)},
                  {"function", text(r.function)},
                  {"capability", text(r.capability)},
                  {"class", std::string(r.host_class)},
                  {"allowed", true},
                  {"sampled_one_in", options_.host_call_sample_every}};
  return write_line(dump(j));
}

bool AuditLog::rollout(const RolloutRecord& r) {
  json j = {{"time", now_text()},
            {"event", "rollout"},
            {"plugin", text(r.plugin_id)},
            {"version", text(r.version)},
            {"action", std::string(r.action)}};
  if (!r.reason.empty()) j["reason"] = text(r.reason);
  return write_line(dump(j));
}

uint64_t AuditLog::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

uint64_t AuditLog::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

}  // namespace warden::host
