// The one table of host functions: every function a plugin can import, as one row (module, name,
// signature, argument roles, fuel, capability, class). The built-in rows are generated from
// hostabi/kernel_functions.def (the Extism kernel) and hostabi/wasi/wasi_functions.def (all of
// WASI preview1); an embedder's functions become rows of the same shape (PluginFunction). Linking,
// metering, the capability gate and audit all read rows (hostabi/host_link.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hostabi/capability.h"
#include "vm/runtime.h"

namespace warden::extism {

inline constexpr const char* kEnvModule = "extism:host/env";
inline constexpr const char* kUserModule = "extism:host/user";
inline constexpr const char* kWasiModule = "wasi_snapshot_preview1";
// WASI snapshot 0, mapped onto preview1's rows by hostabi/wasi/wasi_unstable.h (warden run).
inline constexpr const char* kWasiUnstableModule = "wasi_unstable";

// What an argument means, so that it can be checked before the function body runs.
struct ArgRole {
  enum class Kind : uint8_t {
    Value,   // nothing to check
    Handle,  // a kernel handle (an embedder's argument must name a live block, or be 0)
    Size,    // a byte count
    Offset,  // an offset into the call's input
    Byte,
    Word,
    Fd,      // a WASI descriptor
    Memory,  // a guest address with bytes behind it: `unit` bytes, or `unit` × argument
             // `count_arg` bytes when count_arg >= 0
  };
  Kind kind = Kind::Value;
  uint32_t unit = 0;
  int8_t count_arg = -1;

  bool is_memory() const { return kind == Kind::Memory; }
  std::string text() const;  // "handle", "ptr[8]", "ptr[arg 2]", "ptr[8 x arg 2]"
};

namespace roles {
inline constexpr ArgRole Value{};
inline constexpr ArgRole Handle{ArgRole::Kind::Handle};
inline constexpr ArgRole Size{ArgRole::Kind::Size};
inline constexpr ArgRole Offset{ArgRole::Kind::Offset};
inline constexpr ArgRole Byte{ArgRole::Kind::Byte};
inline constexpr ArgRole Word{ArgRole::Kind::Word};
inline constexpr ArgRole Fd{ArgRole::Kind::Fd};
constexpr ArgRole Ptr(uint32_t bytes) { return {ArgRole::Kind::Memory, bytes, -1}; }
constexpr ArgRole Buf(int length_arg) {
  return {ArgRole::Kind::Memory, 1, static_cast<int8_t>(length_arg)};
}
constexpr ArgRole Array(uint32_t element_bytes, int count_arg) {
  return {ArgRole::Kind::Memory, element_bytes, static_cast<int8_t>(count_arg)};
}
}  // namespace roles

struct HostFunctionInfo {
  std::string module;
  std::string name;
  FuncType type;
  std::vector<ArgRole> roles;  // one per parameter (or empty: all Value)
  uint32_t fuel = 10;          // charged per call to metered plugins
  std::string capability;      // what a policy must grant for the function to link
  HostClass host_class = HostClass::WriteGlobal;
  // What the function does lives in the instance's memory, so a snapshot carries it (false: an
  // init that called it is refused a snapshot).
  bool snapshot_carries = true;

  std::string qualified_name() const { return module + " " + name; }
};

// Every built-in row: the kernel's, then WASI's.
const std::vector<HostFunctionInfo>& builtin_host_functions();
const HostFunctionInfo* find_builtin_host_function(std::string_view module, std::string_view name);
// extism:host/env or wasi_snapshot_preview1: imports of these modules can only be built-in rows.
bool is_builtin_module(std::string_view module);

}  // namespace warden::extism
