// Plugin: an Extism plugin on warden. Created from Wasm bytes or a manifest; each call follows the
// reference runtime's lifecycle (../shared/extism-abi.md): lazy instantiation and init functions,
// a fresh kernel region with the input copied in, `() -> i32` or `() -> ()` exports, the same
// error texts and return codes. Use a Plugin from one thread at a time; its CancelHandle from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <atomic>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostabi/host_link.h"
#include "hostabi/kernel.h"
#include "hostabi/manifest.h"
#include "hostabi/module_cache.h"
#include "vm/compiled_module.h"
#include "vm/memory_image.h"
#include "vm/store.h"

namespace warden::extism {

// What a host function from the embedder sees: the plugin's kernel region and its memory.
class CurrentPlugin {
 public:
  CurrentPlugin(Kernel& kernel, CallContext& context, void* user_data)
      : kernel_(kernel), context_(context), user_data_(user_data) {}

  // The bytes of a live kernel block (empty for 0, freed or forged handles). Valid until the
  // next allocation.
  std::span<uint8_t> block(uint64_t handle);
  std::string_view text(uint64_t handle) { return kernel_.region.block_text(handle); }
  // A new block (0 when n == 0 or the region is out of room).
  uint64_t alloc(uint64_t n) { return kernel_.region.alloc(n); }
  uint64_t alloc_copy(std::string_view bytes) { return kernel_.region.alloc_copy(bytes); }
  void free(uint64_t handle) { kernel_.free_block(handle); }
  Memory* plugin_memory() { return context_.memory(); }
  void* user_data() const { return user_data_; }
  // The running call's CallOptions::host_context (nullptr when none was given).
  void* host_context() const { return kernel_.host_context; }
  // The kernel region itself: region_base() + handle addresses a live block's bytes, as C host
  // functions written for libextism expect (valid until the next allocation).
  uint8_t* region_base() { return kernel_.region.at(0); }
  uint64_t length(uint64_t handle) const { return kernel_.region.length(handle); }

  // Ends the call with `message` as its error (rc -1).
  static HostResult fail(std::string message);

 private:
  Kernel& kernel_;
  CallContext& context_;
  void* user_data_;
};

using PluginHostCallback = std::function<HostResult(CurrentPlugin&, std::span<const Value> args,
                                                    std::span<Value> results)>;

// A host function offered to plugins, in `extism:host/user` unless another module is given. It
// becomes one row of the host-function table (hostabi/host_table.h): the gate links it only when
// the plugin's grants include its capability, checks its Handle and pointer arguments before the
// callback runs, meters and counts it like every built-in function.
struct PluginFunction {
  std::string module = kUserModule;
  std::string name{};
  FuncType type{};
  PluginHostCallback callback{};
  std::shared_ptr<void> user_data{};  // handed to the callback; released with the last plugin
  std::string capability{};           // what a policy must grant; default: the function's name
  HostClass host_class = HostClass::WriteGlobal;  // declare it: the default assumes the worst
  std::vector<ArgRole> roles{};                   // per parameter (empty: nothing checked)
  uint32_t fuel = 10;                             // per call, for metered plugins
};

struct PluginOptions {
  bool wasi = false;
  bool wasi_stdio = false;  // forward the plugin's stdout/stderr (otherwise discarded)
  // Where the plugin's WASI stdout / stderr go when set (wasi_stdio is then not needed): the
  // bytes as written, untrusted.
  std::function<void(std::string_view)> wasi_stdout;
  std::function<void(std::string_view)> wasi_stderr;
  // The WASI environment ("NAME=value"; none by default: the host's is never passed through).
  std::vector<std::string> wasi_env;
  LogLevel log_level = LogLevel::Off;
  LogSink log_sink;  // default: none (messages dropped)
  bool http_response_headers = false;
  std::vector<PluginFunction> functions;
  // Every limit: fuel, memory, time, CPU, concurrency, output, logs, vars, HTTP, host-call rates.
  // The manifest narrows it (never widens).
  Quota quota;
  // What the plugin may import (the policy layer fills it from a tier and the plugin's document).
  // nullopt: everything, with WASI only when `wasi` is set. With grants, WASI is offered and each
  // WASI function links only if its capability is granted; mounts are offered only with
  // filesystem_read_assets, and are all read-only without filesystem_write.
  std::optional<Grants> grants;
  // Where this plugin's calls, denials and host calls are counted, and its concurrent calls and
  // host-call rates shared (across every instance with the same account). Default: the account of
  // grants->plugin_id, else a fresh one.
  std::shared_ptr<PluginAccount> account;
  // Manifest sources given by URL are fetched only from these hosts (globs, as allowed_hosts;
  // redirects included). Empty, the default: a URL source is refused.
  std::vector<std::string> allowed_sources;
  // Creation (fetching URL sources) gives up after this long, or once `create_cancelled` returns
  // true. Default: the manifest's timeout_ms, else 30 s.
  std::optional<std::chrono::milliseconds> create_timeout;
  std::function<bool()> create_cancelled;
  // One of every N host calls that pass the gate goes to host_call_sink (0: none; sampling takes
  // every row off the gate's fast path).
  uint32_t host_call_sample_every = 0;
  HostCallSink host_call_sink;
  // An on-disk cache of validation results (hostabi/module_cache.h), shared by the plugins given
  // it: a module validated by an earlier run of this build is not validated again.
  std::shared_ptr<ModuleCache> module_cache;
};

// What went wrong, for a host that handles failures by kind rather than by message text.
enum class ErrorKind : uint8_t {
  Timeout,           // the call's (or the manifest's) time limit
  Cancelled,         // a CancelHandle ended the call
  OutOfFuel,         // "plugin ran out of fuel"
  Oom,               // the memory budget (or the host's memory) ran out: "oom"
  Trap,              // the guest trapped (rc 134 for the called export)
  PluginError,       // the plugin reported an error (error_set) or returned non-zero
  ExitCode,          // WASI proc_exit with a non-zero code (rc is the code)
  FunctionNotFound,  // no such export, or not `() -> i32` / `() -> ()`
  Denied,            // the gate or a quota refused (the message starts with "policy:")
  InvalidModule,     // bytes that do not decode or validate, or imports nothing satisfies
  InvalidManifest,   // a manifest that does not parse, or names a source that cannot be loaded
  HostError,         // a host function (the embedder's) failed the call, or a host-side failure
};
std::string_view error_kind_name(ErrorKind kind);  // "timeout", "out_of_fuel", ...

struct PluginError {
  ErrorKind kind;
  std::string message;
  int32_t rc = -1;
};

// Ends a running call from any thread, like the reference's cancel handle: the call fails with
// "timeout". A cancel while no call runs is forgotten when the next call starts.
class CancelHandle {
 public:
  void cancel() const;

 private:
  friend class Plugin;
  struct Target {
    std::mutex mutex;
    Store* store = nullptr;
    std::atomic<bool> cancelled{false};  // tells a cancel from a timeout (both interrupt)
  };
  std::shared_ptr<Target> target_;
};

// A plugin instance as its init left it (Plugin::snapshot), to start siblings from.
struct PluginSnapshot;

// Per call, beside the function and input.
struct CallOptions {
  // Handed to every host function the call reaches (CurrentPlugin::host_context); the caller
  // keeps it alive for the call.
  void* host_context = nullptr;
  // Narrows the quota's (and the manifest's) timeout for this call; never widens it.
  std::optional<std::chrono::milliseconds> timeout;
};

class Plugin;

// A plugin's modules read, verified, validated and compiled once, with the options plugins are
// made with: create many plugins from it (each its own instance, vars and config), on any thread.
class CompiledPlugin {
 public:
  static Result<std::shared_ptr<const CompiledPlugin>, PluginError> create(
      std::span<const uint8_t> wasm, PluginOptions options = {});
  static Result<std::shared_ptr<const CompiledPlugin>, PluginError> create(
      const Manifest& manifest, PluginOptions options = {});
  ~CompiledPlugin();

  // A new plugin of these modules and options (nothing is read or compiled again).
  Result<std::unique_ptr<Plugin>, PluginError> instantiate() const;
  const Plugin& prototype() const { return *prototype_; }

 private:
  CompiledPlugin() = default;
  static Result<std::shared_ptr<const CompiledPlugin>, PluginError> adopt(
      Result<std::unique_ptr<Plugin>, PluginError> prototype);
  std::unique_ptr<Plugin> prototype_;  // never called: the template instances are made like
};

class Plugin {
 public:
  static Result<std::unique_ptr<Plugin>, PluginError> create(std::span<const uint8_t> wasm,
                                                             PluginOptions options = {});
  static Result<std::unique_ptr<Plugin>, PluginError> create(const Manifest& manifest,
                                                             PluginOptions options = {});
  // Another plugin of the same modules (already read, verified and compiled: no bytes are
  // loaded, hashed or compiled again), manifest settings and manifest limits, with `options`.
  // The multi-tenant host's new instances are made with it. `options` must keep the original's
  // fuel metering (set fuel_per_call, or not, as it did).
  static Result<std::unique_ptr<Plugin>, PluginError> create_like(const Plugin& like,
                                                                  PluginOptions options);
  ~Plugin();

  // Calls export `function` with `input`. The output stays valid until the next call.
  Result<std::string_view, PluginError> call(std::string_view function,
                                             std::span<const uint8_t> input,
                                             const CallOptions& options = {});
  Result<std::string_view, PluginError> call(std::string_view function, std::string_view input,
                                             const CallOptions& options = {}) {
    return call(function, {reinterpret_cast<const uint8_t*>(input.data()), input.size()}, options);
  }

  // Frees every block of the kernel region (handles die, output and error are cleared), as
  // libextism's reset does; vars, config and the plugin's own memory stay. Refused during a call.
  Result<void, PluginError> reset();

  // Instantiates now and runs the init functions (what the first call would do), under the
  // quota's fuel and timeout: a pool pre-warms instances with it. Idempotent.
  Result<void, PluginError> warm();

  // A picture of this plugin as init left it: warm() done, no call made (so it holds no caller's
  // data). Refused when init did what a picture cannot carry to another instance: opened WASI
  // files or asked for random bytes (every instance would share the same "random" state).
  Result<std::shared_ptr<const PluginSnapshot>, PluginError> snapshot(
      MemoryImage::Mode mode = MemoryImage::Mode::CopyOnWrite) const;
  // Instead of warm(): starts from `snapshot`, which a plugin of the same modules, the same host
  // functions (in the same order) and the same config took; its memories are mapped
  // copy-on-write, no init function runs again. Refused when this plugin has started already.
  Result<void, PluginError> warm_from(const PluginSnapshot& snapshot);
  // The pages of the plugin's linear memories (0 before instantiation), and all host memory
  // charged to it (memories, tables, the kernel region and its bookkeeping).
  uint64_t memory_pages() const { return store_ ? store_->memory_pages() : 0; }
  uint64_t memory_bytes() const { return budget_ ? budget_->used : 0; }

  // The export exists and has an Extism signature (`() -> i32` or `() -> ()`).
  bool function_exists(std::string_view function) const;
  // The error of calling `function` when !function_exists(function): says what the export is
  // when there is one (a memory, a function of another signature).
  PluginError function_not_found(std::string_view function) const;
  // Replaces (set) or merges (update; an empty value removes the key) the config.
  void set_config(std::map<std::string, std::string, std::less<>> config);
  void update_config(const std::map<std::string, std::string>& changes);
  // The same, where nullopt removes a key and an empty value is kept (libextism's JSON form).
  void merge_config(const std::map<std::string, std::optional<std::string>>& changes);
  const std::map<std::string, std::string, std::less<>>& config() const { return config_; }
  CancelHandle cancel_handle() const;
  // http_headers answers with the last response's headers from the next call on.
  void allow_http_response_headers();

  // The main module's compiled form (shared between plugins created from the same bytes); its
  // imports() and exports() describe the plugin's interface in module order.
  const CompiledModule* main_module() const { return modules_.back().compiled.get(); }
  // Fuel the last call used (metered plugins only).
  uint64_t fuel_used() const { return fuel_used_; }
  // The limits in force: PluginOptions::quota narrowed by the manifest.
  const Quota& quota() const { return quota_; }
  const PluginAccount& account() const { return *account_; }
  // The same account, to share with another instance (PluginOptions::account).
  const std::shared_ptr<PluginAccount>& shared_account() const { return account_; }
  // This plugin's calls and host calls (plain counts; the account has the refusals).
  const HostCallStats& stats() const { return stats_; }
  // The host calls that passed the gate since the last time this was asked, per function:
  // `report(row, calls, errors)` for each function with new ones (the host's metrics).
  template <typename Report>
  void report_host_calls(Report&& report) {
    for (HostRowCount& c : stats_.rows) {
      if (c.calls == c.reported_calls) continue;
      report(*c.row, c.calls - c.reported_calls, c.errors - c.reported_errors);
      c.reported_calls = c.calls;
      c.reported_errors = c.errors;
    }
  }
  // The plugin's variables (what var_set stored), read and written by the host between calls.
  // set_var counts against max_var_bytes as the plugin's var_set does: over it, refused.
  const std::map<std::string, std::string, std::less<>>& vars() const { return kernel_->vars; }
  std::optional<std::string_view> var(std::string_view key) const;
  Result<void, PluginError> set_var(std::string_view key, std::span<const uint8_t> value);
  Result<void, PluginError> set_var(std::string_view key, std::string_view value) {
    return set_var(key, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
  }
  void remove_var(std::string_view key);
  // The last call's HTTP bytes per host (Kernel::egress_by_host).
  const std::vector<std::pair<std::string, uint64_t>>& egress_by_host() const {
    return kernel_->egress_by_host;
  }

  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

 private:
  friend class CompiledPlugin;
  struct Module {
    std::string name;
    std::shared_ptr<const CompiledModule> compiled;
  };
  Plugin() = default;
  static Result<std::unique_ptr<Plugin>, PluginError> create_unguarded(const Manifest& manifest,
                                                                       PluginOptions options);
  PluginError refuse_concurrent_call();  // out of line: the refusal is the rare path
  Result<std::string_view, PluginError> call_guarded(std::string_view function,
                                                     std::span<const uint8_t> input,
                                                     const CallOptions& options);
  Result<std::string_view, PluginError> call_unguarded(std::string_view function,
                                                       std::span<const uint8_t> input,
                                                       const CallOptions& options);
  Result<void, PluginError> check_imports() const;
  LinkContext link_context(Kernel* kernel) const;
  Result<void, PluginError> instantiate();     // a fresh store, kernel and linker
  Result<void, PluginError> start_instance();  // instantiate the modules, run init functions
  PluginError error_from(const ExecError& error) const;

  std::shared_ptr<const Engine> engine_;
  std::vector<Module> modules_;  // the main module last
  PluginOptions options_;
  Manifest manifest_;     // limits, config, hosts, paths (sources dropped)
  Quota manifest_quota_;  // the manifest's limits, which narrow every quota given
  void adopt_options();
  std::unique_ptr<Kernel> first_kernel() const;  // before the first instance: vars, quota

  // The live instance, created by the first call, recreated after `_start`.
  std::unique_ptr<MemoryBudget> budget_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<Linker> linker_;
  std::unique_ptr<Store> store_;
  Instance* instance_ = nullptr;
  bool needs_fresh_instance_ = false;  // after `_start`, or a failed start
  bool called_ = false;                // a call has run in this plugin (no snapshot then)
  bool in_call_ = false;               // reset() and set_var() are refused while one runs
  bool vars_cleared_ = false;          // `_start` ran: the next instance starts with none
  std::map<std::string, std::string, std::less<>> config_;
  uint64_t fuel_used_ = 0;
  Quota quota_;
  std::vector<HostFunctionInfo> embedder_rows_;  // options_.functions as rows (stable addresses)
  std::shared_ptr<PluginAccount> account_;
  mutable HostCallStats stats_;             // written by the linked host functions
  std::atomic<bool> cpu_quota_hit_{false};  // set by the store's watch (another thread)
  std::shared_ptr<CancelHandle::Target> cancel_target_ = std::make_shared<CancelHandle::Target>();
  std::optional<std::chrono::milliseconds> call_timeout_;  // this call's: CallOptions narrowed
};

}  // namespace warden::extism
