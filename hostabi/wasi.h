// A deny-by-default WASI preview1 (`wasi_snapshot_preview1`) for wasi-libc, Rust, Go/TinyGo and
// GHC programs: arguments, environment (empty unless given), clocks, random bytes, stdio (stdin
// at end of file; stdout/stderr to the configured sinks), files and directories only beneath the
// preopened `mounts` (hostabi/wasi_fs.h), poll_oneoff for sleeping, proc_exit, sched_yield. Every
// other WASI function is linked and answers ENOSYS (sockets, fd_advise, path_link, ...).
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
