// The capability vocabulary and the threat model's host-API classes. Every function a plugin can
// import (an Extism kernel import, a WASI preview1 function, an embedder's function) belongs to
// exactly one capability and one class (hostabi/host_table.h); a policy grants capabilities.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

namespace warden::extism {

// The built-in capabilities. An embedder may name its own for its own functions.
namespace capability {
inline constexpr std::string_view kMemoryOnly = "memory_only";  // the memory ABI; always granted
inline constexpr std::string_view kLogEmit = "log_emit";
inline constexpr std::string_view kConfigRead = "config_read";
inline constexpr std::string_view kVars = "vars";
inline constexpr std::string_view kNetwork = "network_outbound_allowlist";     // http_*
inline constexpr std::string_view kFilesystemRead = "filesystem_read_assets";  // beneath mounts
inline constexpr std::string_view kFilesystemWrite = "filesystem_write";
inline constexpr std::string_view kWasiClock = "wasi_clock";  // clocks, poll_oneoff, sched_yield
inline constexpr std::string_view kWasiRandom = "wasi_random";
inline constexpr std::string_view kWasiEnv = "wasi_env";          // args, environ
inline constexpr std::string_view kWasiStdio = "wasi_stdio";      // fd_read/fd_write and fd state
inline constexpr std::string_view kWasiExit = "wasi_exit";        // proc_exit, proc_raise
inline constexpr std::string_view kWasiSockets = "wasi_sockets";  // sock_* (no sockets are given)
}  // namespace capability

inline constexpr std::string_view kBuiltinCapabilities[] = {
    capability::kMemoryOnly,      capability::kLogEmit,
    capability::kConfigRead,      capability::kVars,
    capability::kNetwork,         capability::kFilesystemRead,
    capability::kFilesystemWrite, capability::kWasiClock,
    capability::kWasiRandom,      capability::kWasiEnv,
    capability::kWasiStdio,       capability::kWasiExit,
    capability::kWasiSockets,
};

inline bool is_builtin_capability(std::string_view name) {
  return std::find(std::begin(kBuiltinCapabilities), std::end(kBuiltinCapabilities), name) !=
         std::end(kBuiltinCapabilities);
}

// The host-API classes of ../shared/seeds/wasm-plugin-threat-model.txt (Decision 2).
enum class HostClass : uint8_t { ReadSafe, ReadSensitive, WriteLocal, WriteGlobal, AuditOnly };

inline constexpr std::string_view host_class_name(HostClass c) {
  switch (c) {
    case HostClass::ReadSafe: return "read_safe";
    case HostClass::ReadSensitive: return "read_sensitive";
    case HostClass::WriteLocal: return "write_local";
    case HostClass::WriteGlobal: return "write_global";
    case HostClass::AuditOnly: return "audit_only";
  }
  return "?";
}

inline std::optional<HostClass> parse_host_class(std::string_view name) {
  for (HostClass c : {HostClass::ReadSafe, HostClass::ReadSensitive, HostClass::WriteLocal,
                      HostClass::WriteGlobal, HostClass::AuditOnly})
    if (host_class_name(c) == name) return c;
  return std::nullopt;
}

}  // namespace warden::extism
