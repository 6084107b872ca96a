// A deny-by-default WASI preview1 (`wasi_snapshot_preview1`) for wasi-libc, Rust, Go/TinyGo and
// GHC programs: arguments, environment (empty unless given), clocks, random bytes, stdio (stdin
// from `stdin_data`; stdout/stderr to the configured sinks), files and directories only beneath
// the preopened `mounts` (hostabi/wasi/wasi_fs.h, hostabi/wasi/wasi_path.h), poll_oneoff for
// sleeping, proc_exit, sched_yield. Every other WASI function is linked and answers ENOSYS
// (sockets, proc_raise, ...). docs/wasi.md lists what is supported and which errno each refusal
// gives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hostabi/host_link.h"
#include "vm/linker.h"

namespace warden::wasi {

inline constexpr const char* kModule = extism::kWasiModule;
using extism::HostImpl;
using extism::HostImpls;

// WASI errno values (wasi_snapshot_preview1 witx, `errno`) used here.
enum Errno : uint32_t {
  kSuccess = 0,
  kAcces = 2,
  kAgain = 6,
  kBadf = 8,
  kExist = 20,
  kFault = 21,
  kFbig = 22,
  kIntr = 27,
  kInval = 28,
  kIo = 29,
  kIsdir = 31,
  kLoop = 32,
  kMfile = 33,
  kMlink = 34,
  kNametoolong = 37,
  kNoent = 44,
  kNomem = 48,
  kNospc = 51,
  kNosys = 52,
  kNotdir = 54,
  kNotempty = 55,
  kNotsup = 58,
  kPerm = 63,  // a path that leaves its mount, a write on a read-only mount
  kRofs = 69,
  kSpipe = 70,
  kXdev = 75,
  kNotcapable = 76,
};

struct WasiConfig {
  std::vector<std::string> args;  // argv, including argv[0]
  std::vector<std::string> env;   // "NAME=value" entries; empty by default
  // What fd 0 reads; at end of file once consumed (empty by default).
  std::string stdin_data;
  // When >= 0, fd 0 reads this host descriptor instead (warden run: the process's standard
  // input), waiting for input as the process would; not owned.
  int stdin_fd = -1;
  // Where fd 1 and fd 2 go. Default: the process's stdout / stderr. A sink that does nothing
  // discards.
  std::function<void(std::string_view)> write_stdout;
  std::function<void(std::string_view)> write_stderr;
  // Preopened directories (fds 3, 4, ... in order). Nothing outside them is reachable.
  struct Mount {
    std::string host_path;
    std::string guest_path;
    bool read_only = false;  // every write, create, unlink, rename, truncate is EPERM
  };
  std::vector<Mount> mounts;
  // Most files and directories one instance may hold open at once (EMFILE past it), so that a
  // guest cannot use up the host process's descriptors.
  uint32_t max_open_files = 1024;
};

// The implementations of the supported functions (hostabi/wasi/wasi_functions.def has a row for
// every WASI preview1 function; those without one answer ENOSYS). Each call makes a fresh
// descriptor table (the mounts are opened here), owned by the implementations.
void add_wasi_impls(HostImpls& impls, std::shared_ptr<const WasiConfig> config);
// Every row of WASI preview1 in `linker`, everything granted (for `warden run` and embedders of
// the VM without a Plugin); `metered`: each call costs its row's fuel.
// With `unstable`, the same under `wasi_unstable` (hostabi/wasi/wasi_unstable.h) as well.
void define_wasi(Linker& linker, std::shared_ptr<const WasiConfig> config, bool metered = false,
                 bool unstable = false);

// The names of the functions that do something (everything else is ENOSYS).
const std::vector<std::string_view>& supported_functions();

}  // namespace warden::wasi
