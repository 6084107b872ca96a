#include "hostabi/wasi/wasi.h"
#include "hostabi/wasi/wasi_unstable.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "hostabi/wasi/wasi_fd_table.h"
#include "hostabi/wasi/wasi_memory.h"
#include "vm/store.h"

namespace warden::wasi {
namespace {

using enum ValType;

// Writes a list of strings the way args_get/environ_get do: pointers, then NUL-terminated bytes.
uint32_t write_strings(CallContext& ctx, const std::vector<std::string>& list, uint32_t ptrs,
                       uint32_t buf) {
  GuestMemory mem(ctx);
  for (const std::string& s : list) {
    if (!mem.put<uint32_t>(ptrs, buf) || !mem.write(buf, s.c_str(), s.size() + 1)) return kFault;
    ptrs += 4;
    buf += static_cast<uint32_t>(s.size() + 1);
  }
  return kSuccess;
}

uint32_t write_sizes(CallContext& ctx, const std::vector<std::string>& list, uint32_t count_ptr,
                     uint32_t size_ptr) {
  uint64_t size = 0;
  for (const std::string& s : list) size += s.size() + 1;
  GuestMemory mem(ctx);
  if (!mem.put<uint32_t>(count_ptr, static_cast<uint32_t>(list.size())) ||
      !mem.put<uint32_t>(size_ptr, static_cast<uint32_t>(size))) {
    return kFault;
  }
  return kSuccess;
}

using Impl = std::function<uint32_t(CallContext&, std::span<const Value>)>;

void define(HostImpls& impls, const char* name, Impl impl) {
  impls.add(kModule, name,
            HostImpl{nullptr, nullptr,
                     [impl = std::move(impl)](CallContext& ctx, std::span<const Value> args,
                                              std::span<Value> results) -> HostResult {
                       results[0] = Value::i32(static_cast<int32_t>(impl(ctx, args)));
                       return {};
                     }});
}

}  // namespace

const std::vector<std::string_view>& supported_functions() {
  static const std::vector<std::string_view> names = {
      "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_time_get",
      "clock_res_get", "random_get", "proc_exit", "sched_yield",
      // hostabi/wasi/wasi_fs.cc
      "fd_prestat_get", "fd_prestat_dir_name", "fd_write", "fd_pwrite", "fd_read", "fd_pread",
      "fd_seek", "fd_tell", "fd_close", "fd_renumber", "fd_sync", "fd_datasync", "fd_advise",
      "fd_allocate", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_fdstat_set_rights",
      "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_readdir", "path_open",
      "path_filestat_get", "path_filestat_set_times", "path_create_directory", "path_unlink_file",
      "path_remove_directory", "path_rename", "path_link", "path_readlink", "path_symlink",
      // hostabi/wasi/wasi_poll.cc
      "poll_oneoff"};
  return names;
}

void add_wasi_impls(HostImpls& impls, std::shared_ptr<const WasiConfig> config) {
  auto cfg = std::move(config);
  define(impls, "args_get", [cfg](CallContext& ctx, std::span<const Value> a) {
    return write_strings(ctx, cfg->args, u32(a[0]), u32(a[1]));
  });
  define(impls, "args_sizes_get", [cfg](CallContext& ctx, std::span<const Value> a) {
    return write_sizes(ctx, cfg->args, u32(a[0]), u32(a[1]));
  });
  define(impls, "environ_get", [cfg](CallContext& ctx, std::span<const Value> a) {
    return write_strings(ctx, cfg->env, u32(a[0]), u32(a[1]));
  });
  define(impls, "environ_sizes_get", [cfg](CallContext& ctx, std::span<const Value> a) {
    return write_sizes(ctx, cfg->env, u32(a[0]), u32(a[1]));
  });
  define(impls, "clock_time_get", [](CallContext& ctx, std::span<const Value> a) -> uint32_t {
    uint64_t ns;
    switch (u32(a[0])) {
      case 0:  // realtime
        ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
        break;
      case 1:  // monotonic
      case 2:  // process cputime (approximated by the monotonic clock)
      case 3:  // thread cputime
        ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
        break;
      default: return kInval;
    }
    GuestMemory mem(ctx);
    return mem.put<uint64_t>(u32(a[2]), ns) ? kSuccess : kFault;
  });
  define(impls, "clock_res_get", [](CallContext& ctx, std::span<const Value> a) -> uint32_t {
    if (u32(a[0]) > 3) return kInval;
    GuestMemory mem(ctx);
    return mem.put<uint64_t>(u32(a[1]), 1) ? kSuccess : kFault;  // nanosecond resolution
  });
  define(impls, "random_get", [](CallContext& ctx, std::span<const Value> a) {
    GuestMemory mem(ctx);
    const uint32_t buf = u32(a[0]), len = u32(a[1]);
    if (!mem.ok(buf, len)) return kFault;
    static thread_local std::random_device device;
    for (uint32_t i = 0; i < len; ++i) mem.at(buf)[i] = static_cast<uint8_t>(device());
    return kSuccess;
  });
  // The descriptor table of this linker's instances: fd_* and path_* (hostabi/wasi/wasi_fs.cc),
  // poll_oneoff (hostabi/wasi/wasi_poll.cc).
  auto table = std::make_shared<FdTable>(cfg);
  define_files(impls, table);
  define_poll(impls, table);
  define(impls, "sched_yield", [](CallContext&, std::span<const Value>) {
    std::this_thread::yield();
    return kSuccess;
  });
  impls.add(kModule, "proc_exit",
            HostImpl{nullptr, nullptr,
                     [](CallContext&, std::span<const Value> args, std::span<Value>) -> HostResult {
                       ExecError e;
                       e.kind = ExecError::Kind::Exit;
                       e.exit_code = args[0].as_i32();
                       return Failure{std::move(e)};
                     }});
  // Deny by default: every other WASI preview1 function has a row, links, and answers ENOSYS.
}

void define_wasi(Linker& linker, std::shared_ptr<const WasiConfig> config, bool metered,
                 bool unstable) {
  HostImpls impls;
  add_wasi_impls(impls, std::move(config));
  extism::link_all(linker, kModule, impls, metered);
  if (unstable) define_wasi_unstable(linker, impls, metered);
}

}  // namespace warden::wasi
