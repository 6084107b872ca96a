// The host-function table (hostabi/host_table.h): every row well formed, every capability from
// the vocabulary, all of WASI preview1 present; and the gate's argument checks on an embedder's
// function with a forged handle.
#include <gtest/gtest.h>

#include <set>

#include "hostabi/host_table.h"
#include "hostabi/plugin.h"
#include "test_guest.h"

namespace warden::extism {
namespace {

TEST(HostTable, EveryRowIsWellFormed) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const HostFunctionInfo& row : builtin_host_functions()) {
    SCOPED_TRACE(row.qualified_name());
    EXPECT_TRUE(seen.emplace(row.module, row.name).second) << "listed twice";
    EXPECT_TRUE(is_builtin_capability(row.capability)) << row.capability;
    ASSERT_EQ(row.roles.size(), row.type.params.size());
    for (size_t i = 0; i < row.roles.size(); ++i) {
      const ArgRole& role = row.roles[i];
      if (!role.is_memory()) continue;
      EXPECT_EQ(row.type.params[i], ValType::I32) << "a guest address is an i32";
      if (role.count_arg >= 0) {
        ASSERT_LT(static_cast<size_t>(role.count_arg), row.type.params.size());
        EXPECT_EQ(row.type.params[role.count_arg], ValType::I32);
        EXPECT_FALSE(row.roles[role.count_arg].is_memory()) << "a count is not an address";
      }
    }
  }
}

TEST(HostTable, AllOfWasiPreview1HasARow) {
  // The functions of wasi_snapshot_preview1.witx, written out here independently of the table.
  const std::set<std::string> preview1 = {"args_get",
                                          "args_sizes_get",
                                          "environ_get",
                                          "environ_sizes_get",
                                          "clock_res_get",
                                          "clock_time_get",
                                          "fd_advise",
                                          "fd_allocate",
                                          "fd_close",
                                          "fd_datasync",
                                          "fd_fdstat_get",
                                          "fd_fdstat_set_flags",
                                          "fd_fdstat_set_rights",
                                          "fd_filestat_get",
                                          "fd_filestat_set_size",
                                          "fd_filestat_set_times",
                                          "fd_pread",
                                          "fd_prestat_get",
                                          "fd_prestat_dir_name",
                                          "fd_pwrite",
                                          "fd_read",
                                          "fd_readdir",
                                          "fd_renumber",
                                          "fd_seek",
                                          "fd_sync",
                                          "fd_tell",
                                          "fd_write",
                                          "path_create_directory",
                                          "path_filestat_get",
                                          "path_filestat_set_times",
                                          "path_link",
                                          "path_open",
                                          "path_readlink",
                                          "path_remove_directory",
                                          "path_rename",
                                          "path_symlink",
                                          "path_unlink_file",
                                          "poll_oneoff",
                                          "proc_exit",
                                          "proc_raise",
                                          "sched_yield",
                                          "random_get",
                                          "sock_accept",
                                          "sock_recv",
                                          "sock_send",
                                          "sock_shutdown"};
  std::set<std::string> rows;
  for (const HostFunctionInfo& row : builtin_host_functions())
    if (row.module == kWasiModule) rows.insert(row.name);
  EXPECT_EQ(rows, preview1);
}

TEST(HostTable, EveryBuiltinCapabilityButMemoryOnlyGuardsSomething) {
  std::set<std::string> used;
  for (const HostFunctionInfo& row : builtin_host_functions()) used.insert(row.capability);
  for (std::string_view c : kBuiltinCapabilities) EXPECT_TRUE(used.contains(std::string(c))) << c;
}

PluginOptions reverse_counting(int& calls) {
  PluginOptions options;
  PluginFunction f;
  f.name = "reverse";
  f.type = FuncType{{ValType::I64}, {ValType::I64}};
  f.roles = {roles::Handle};
  f.callback = [&calls](CurrentPlugin&, std::span<const Value>, std::span<Value> r) {
    ++calls;
    r[0] = Value::i64(0);
    return HostResult{};
  };
  options.functions.push_back(std::move(f));
  return options;
}

TEST(HostTable, AForgedHandleNeverReachesAnEmbeddersFunction) {
  int calls = 0;
  auto plugin = Plugin::create(test::guest_bytes("host_fn_forged"), reverse_counting(calls));
  ASSERT_TRUE(plugin) << plugin.error().message;
  auto r = (*plugin)->call("forged", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "extism:host/user reverse: argument 0 is not a live kernel block");
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE((*plugin)->call("null", ""));  // 0 is "no block", not a forged one
  EXPECT_EQ(calls, 1);
}

TEST(HostTable, EveryHostCallIsCountedAndChargedItsRowsFuel) {
  auto fuel_of_one_call = [](uint32_t row_fuel) {
    int calls = 0;
    PluginOptions options = reverse_counting(calls);
    options.functions[0].fuel = row_fuel;
    options.quota.fuel_per_call = 1'000'000;
    auto plugin = Plugin::create(test::guest_bytes("host_fn_forged"), std::move(options));
    EXPECT_TRUE(plugin);
    EXPECT_TRUE((*plugin)->call("null", ""));
    EXPECT_EQ((*plugin)->stats().host_calls, 1u);
    EXPECT_EQ((*plugin)->stats().calls, 1u);
    return (*plugin)->fuel_used();
  };
  EXPECT_EQ(fuel_of_one_call(1010) - fuel_of_one_call(10), 1000u);
}

}  // namespace
}  // namespace warden::extism
