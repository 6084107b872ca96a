// A deny-by-default subset of WASI preview1 (`wasi_snapshot_preview1`), enough for programs built
// with wasi-libc: arguments, environment (empty unless given), clocks, random bytes, writing to
// stdout/stderr, fd_fdstat_get, no preopened directories, proc_exit, sched_yield. Every other
// WASI function is linked and answers ENOSYS; the capability-gated file system comes later.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/linker.h"

namespace warden::wasi {

inline constexpr const char* kModule = "wasi_snapshot_preview1";

// WASI errno values used here.
enum Errno : uint32_t {
  kSuccess = 0,
  kBadf = 8,
  kFault = 21,
  kInval = 28,
  kNosys = 52,
};

struct WasiConfig {
  std::vector<std::string> args;  // argv, including argv[0]
  std::vector<std::string> env;   // "NAME=value" entries; empty by default
  // Where fd 1 and fd 2 go. Default: the process's stdout / stderr.
  std::function<void(std::string_view)> write_stdout;
  std::function<void(std::string_view)> write_stderr;
  // Preopened directories (fds 3, 4, ... in order).
  struct Mount {
    std::string host_path;
    std::string guest_path;
    bool read_only = false;
  };
  std::vector<Mount> mounts;
};

// Defines every supported function, and an ENOSYS fallback for the rest, in `linker`.
void define_wasi(Linker& linker, std::shared_ptr<const WasiConfig> config);

// The names of the functions that do something (everything else is ENOSYS).
const std::vector<std::string_view>& supported_functions();

}  // namespace warden::wasi
