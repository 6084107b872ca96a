#include "hostabi/plugin.h"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#include <filesystem>
#include <map>

#include "hostabi/wasi/wasi.h"
#include "hostabi/wasi/wasi_mount.h"
#include "hostabi/wasi/wasi_path.h"
#include "decoder/untrusted_text.h"
#include "vm/snapshot.h"

namespace warden::extism {
namespace {

using enum ValType;

// One Engine per metering choice, shared by every plugin, so compiled modules can be shared too.
std::shared_ptr<const Engine> shared_engine(bool fuel) {
  static const auto metered =
      std::make_shared<const Engine>(EngineConfig{.features = {}, .fuel = true});
  static const auto plain =
      std::make_shared<const Engine>(EngineConfig{.features = {}, .fuel = false});
  return fuel ? metered : plain;
}

// Plugins created from the same bytes share one CompiledModule (and its lazily compiled code).
Result<std::shared_ptr<const CompiledModule>, PluginError> compile_shared(
    const std::shared_ptr<const Engine>& engine, std::vector<uint8_t> bytes,
    ModuleCache* disk_cache) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, const Engine*>, std::weak_ptr<const CompiledModule>> cache;
  const auto key = std::make_pair(sha256_hex(bytes), engine.get());
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end())
      if (auto module = it->second.lock()) return module;
  }
  // From disk, validation results this cache wrote for these bytes (hostabi/module_cache.h).
  auto compiled = [&]() -> Result<std::shared_ptr<const CompiledModule>, LoadError> {
    if (!disk_cache) return CompiledModule::compile(*engine, std::move(bytes));
    auto module = disk_cache->load(bytes, key.first, engine->config().features);
    if (!module) return Failure{module.take_error()};
    return CompiledModule::compile(*engine, std::move(module).value());
  }();
  if (!compiled)
    return Failure{PluginError{ErrorKind::InvalidModule,
                               "invalid wasm module: " + compiled.error().to_string(), -1}};
  std::lock_guard lock(mutex);
  for (auto it = cache.begin(); it != cache.end();)  // drop entries of freed modules
    it = it->second.expired() ? cache.erase(it) : std::next(it);
  cache[key] = *compiled;
  return *compiled;
}

bool is_void_to(const FuncType& type, std::initializer_list<ValType> results) {
  return type.params.empty() && type.results == std::vector<ValType>(results);
}

// The calling thread's CPU time, for cpu_seconds_per_call.
double cpu_seconds(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A host function's failure: the gate's and the quotas' refusals say "policy:".
ErrorKind host_error_kind(std::string_view detail) {
  return detail.starts_with("policy:") ? ErrorKind::Denied : ErrorKind::HostError;
}

std::string quota_number(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::OutOfFuel: return "out_of_fuel";
    case ErrorKind::Oom: return "oom";
    case ErrorKind::Trap: return "trap";
    case ErrorKind::PluginError: return "plugin_error";
    case ErrorKind::ExitCode: return "exit_code";
    case ErrorKind::FunctionNotFound: return "function_not_found";
    case ErrorKind::Denied: return "denied";
    case ErrorKind::InvalidModule: return "invalid_module";
    case ErrorKind::InvalidManifest: return "invalid_manifest";
    case ErrorKind::HostError: return "host_error";
  }
  return "host_error";
}

std::span<uint8_t> CurrentPlugin::block(uint64_t handle) {
  const uint64_t n = kernel_.region.length(handle);
  if (n == 0) return {};
  return {kernel_.region.at(handle), n};
}

HostResult CurrentPlugin::fail(std::string message) {
  ExecError e;
  e.kind = ExecError::Kind::Trap;
  e.trap = TrapCode::HostError;
  e.detail = std::move(message);
  return Failure{std::move(e)};
}

void CancelHandle::cancel() const {
  if (!target_) return;
  std::lock_guard lock(target_->mutex);
  target_->cancelled.store(true, std::memory_order_relaxed);
  if (target_->store) target_->store->interrupt();
}

Result<std::unique_ptr<Plugin>, PluginError> Plugin::create(std::span<const uint8_t> wasm,
                                                            PluginOptions options) {
  Manifest manifest;
  WasmSource source;
  source.data.assign(wasm.begin(), wasm.end());
  manifest.wasm.push_back(std::move(source));
  return create(manifest, std::move(options));
}

// No std::bad_alloc leaves the Plugin API: what the host cannot allocate is an error.
Result<std::unique_ptr<Plugin>, PluginError> Plugin::create(const Manifest& manifest,
                                                            PluginOptions options) {
  try {
    return create_unguarded(manifest, std::move(options));
  } catch (const std::bad_alloc&) {
    return Failure{PluginError{ErrorKind::Oom, "out of host memory while creating the plugin", -1}};
  }
}

Result<std::string_view, PluginError> Plugin::call(std::string_view function,
                                                   std::span<const uint8_t> input,
                                                   const CallOptions& options) {
  ++stats_.calls;
  if (!quota_.concurrent_calls) return call_guarded(function, input, options);
  // concurrent_calls counts every instance with this account: over it, refused at once.
  if (!account_->enter_call(*quota_.concurrent_calls)) return Failure{refuse_concurrent_call()};
  struct LeaveCall {
    PluginAccount& account;
    ~LeaveCall() { account.leave_call(); }
  } leave{*account_};
  return call_guarded(function, input, options);
}

PluginError Plugin::refuse_concurrent_call() {
  std::string who = options_.grants && !options_.grants->plugin_id.empty()
                        ? "plugin " + quote_untrusted(options_.grants->plugin_id)
                        : std::string("the plugin");
  std::string message = "policy: " + who + " already runs " +
                        std::to_string(*quota_.concurrent_calls) +
                        " calls (concurrent_calls); call refused";
  account_->record({GateEvent::Kind::ConcurrencyRefused, account_->plugin_id(), "", "", message});
  return PluginError{ErrorKind::Denied, std::move(message), -1};
}

Result<std::string_view, PluginError> Plugin::call_guarded(std::string_view function,
                                                           std::span<const uint8_t> input,
                                                           const CallOptions& options) {
  in_call_ = true;
  call_timeout_ = quota_.timeout;
  if (options.timeout && (!call_timeout_ || *options.timeout < *call_timeout_))
    call_timeout_ = options.timeout;
  struct EndCall {
    Plugin& plugin;
    ~EndCall() {
      plugin.in_call_ = false;
      if (plugin.kernel_) plugin.kernel_->host_context = nullptr;
    }
  } end_call{*this};
  try {
    return call_unguarded(function, input, options);
  } catch (const std::bad_alloc&) {
    needs_fresh_instance_ = true;  // whatever was half done, the next call starts over
    return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
  }
}

// The quota (the options' narrowed by the manifest's), the account and the embedder's rows.
void Plugin::adopt_options() {
  quota_ = options_.quota;
  quota_.narrow(manifest_quota_);
  account_ = options_.account;
  if (!account_)
    account_ = PluginAccount::of(options_.grants ? options_.grants->plugin_id : std::string());
  embedder_rows_.clear();
  for (const PluginFunction& f : options_.functions) {
    HostFunctionInfo row;
    row.module = f.module;
    row.name = f.name;
    row.type = f.type;
    row.roles = f.roles;
    row.fuel = f.fuel;
    row.capability = f.capability.empty() ? f.name : f.capability;
    row.host_class = f.host_class;
    embedder_rows_.push_back(std::move(row));
  }
}

Result<std::unique_ptr<Plugin>, PluginError> Plugin::create_like(const Plugin& like,
                                                                 PluginOptions options) {
  try {
    // Code is compiled per engine (metered or not): a sibling must use the same.
    if (shared_engine(options.quota.fuel_per_call.has_value()) != like.engine_)
      return Failure{PluginError{ErrorKind::InvalidManifest,
                                 "a sibling plugin must keep its original's fuel metering", -1}};
    std::unique_ptr<Plugin> plugin(new Plugin());
    plugin->engine_ = like.engine_;
    plugin->options_ = std::move(options);
    plugin->manifest_quota_ = like.manifest_quota_;
    plugin->adopt_options();
    plugin->manifest_ = like.manifest_;
    plugin->config_.insert(like.manifest_.config.begin(), like.manifest_.config.end());
    plugin->modules_ = like.modules_;
    if (auto ok = plugin->check_imports(); !ok) return Failure{std::move(ok.error())};
    plugin->kernel_ = plugin->first_kernel();
    return plugin;
  } catch (const std::bad_alloc&) {
    return Failure{PluginError{ErrorKind::Oom, "out of host memory while creating the plugin", -1}};
  }
}

Result<std::unique_ptr<Plugin>, PluginError> Plugin::create_unguarded(const Manifest& manifest,
                                                                      PluginOptions options) {
  std::unique_ptr<Plugin> plugin(new Plugin());
  plugin->engine_ = shared_engine(options.quota.fuel_per_call.has_value());
  plugin->options_ = std::move(options);
  // The manifest narrows the embedder's (or the policy's) quota, never widens it.
  Quota from_manifest;
  if (manifest.max_pages) from_manifest.memory_bytes = uint64_t{*manifest.max_pages} * kPageSize;
  from_manifest.max_var_bytes = manifest.max_var_bytes;
  from_manifest.max_http_response_bytes = manifest.max_http_response_bytes;
  if (manifest.timeout_ms) from_manifest.timeout = std::chrono::milliseconds(*manifest.timeout_ms);
  plugin->manifest_quota_ = from_manifest;
  plugin->adopt_options();
  // Everything but the sources (their bytes live on in the compiled modules) and the limits (in
  // the quota).
  Manifest& own = plugin->manifest_;
  own.config = manifest.config;
  own.allowed_hosts = manifest.allowed_hosts;
  own.allowed_paths = manifest.allowed_paths;
  plugin->config_.insert(manifest.config.begin(), manifest.config.end());
  if (manifest.wasm.empty())
    return Failure{
        PluginError{ErrorKind::InvalidManifest, "a plugin needs at least one wasm module", -1}};
  for (const auto& [host, guest] : manifest.allowed_paths) {
    if (auto refusal = wasi::check_mount(wasi::mount_from_manifest(host, guest)))
      return Failure{PluginError{refusal->denied ? ErrorKind::Denied : ErrorKind::InvalidManifest,
                                 "allowed_paths: " + refusal->message, -1}};
  }
  SourceFetch fetch;
  fetch.allowed_hosts = plugin->options_.allowed_sources;
  fetch.deadline = std::chrono::steady_clock::now() +
                   plugin->options_.create_timeout.value_or(
                       std::chrono::milliseconds(manifest.timeout_ms.value_or(30'000)));
  fetch.cancelled = plugin->options_.create_cancelled;
  // The main module is the one named "main", else the last; it is instantiated last.
  size_t main_index = manifest.wasm.size() - 1;
  for (size_t i = 0; i < manifest.wasm.size(); ++i)
    if (manifest.wasm[i].module_name() == "main") main_index = i;
  std::shared_ptr<const CompiledModule> main_module;  // instantiated last
  for (size_t i = 0; i < manifest.wasm.size(); ++i) {
    const WasmSource& source = manifest.wasm[i];
    for (size_t j = 0; j < i; ++j)
      if (manifest.wasm[j].module_name() == source.module_name())
        return Failure{PluginError{
            ErrorKind::InvalidManifest,
            "duplicate module name " + quote_untrusted(source.module_name()) + " in the manifest",
            -1}};
    auto bytes = load_source(source, fetch);
    if (!bytes) return Failure{PluginError{ErrorKind::InvalidManifest, bytes.error().message, -1}};
    auto compiled =
        compile_shared(plugin->engine_, std::move(*bytes), plugin->options_.module_cache.get());
    if (!compiled) return Failure{std::move(compiled.error())};
    if (i == main_index) {
      main_module = *compiled;
    } else {
      plugin->modules_.push_back({source.module_name(), *compiled});
    }
  }
  plugin->modules_.push_back({"main", main_module});
  if (auto ok = plugin->check_imports(); !ok) return Failure{std::move(ok.error())};
  plugin->kernel_ = plugin->first_kernel();
  return plugin;
}

Plugin::~Plugin() {
  std::lock_guard lock(cancel_target_->mutex);
  cancel_target_->store = nullptr;
}

LinkContext Plugin::link_context(Kernel* kernel) const {
  LinkContext context;
  context.embedder_rows = embedder_rows_;
  context.grants = options_.grants ? &*options_.grants : nullptr;
  context.wasi = options_.wasi || options_.grants.has_value();
  context.metered = quota_.fuel_per_call.has_value();
  context.account = account_;
  context.stats = &stats_;  // counted by the linked functions
  if (!quota_.host_calls_per_second.empty())
    context.host_calls_per_second = &quota_.host_calls_per_second;
  context.kernel = kernel;
  if (options_.host_call_sample_every && options_.host_call_sink) {
    context.sample_every = options_.host_call_sample_every;
    context.sample_sink = &options_.host_call_sink;
  }
  return context;
}

// Every import, before any plugin code runs: a host function (known, the right type, granted) or
// an export of another module of the plugin. The same resolve_import links them later.
Result<void, PluginError> Plugin::check_imports() const {
  const LinkContext context = link_context(nullptr);
  for (const Module& m : modules_) {
    const warden::Module& module = m.compiled->module();
    for (const Import& import : module.imports) {
      auto target = resolve_import(module, import, context);
      if (!target) {
        if (target.error().denied)
          account_->record({GateEvent::Kind::DeniedAtLink, account_->plugin_id(),
                            import.module + " " + import.name, "", target.error().message});
        return Failure{
            PluginError{target.error().denied ? ErrorKind::Denied : ErrorKind::InvalidModule,
                        std::move(target.error().message), -1}};
      }
      if (target->row) continue;
      bool found = false;
      for (const Module& other : modules_) found |= other.name == import.module && &other != &m;
      if (!found) {
        // Appended piece by piece: `"`" + std::string + ...` trips GCC 12's -Wrestrict false
        // positive.
        std::string where = "`";
        where.append(escape_untrusted(import.module)).append("::");
        where.append(escape_untrusted(import.name)).append("`");
        return Failure{PluginError{ErrorKind::InvalidModule,
                                   "unknown import: " + where + " has not been defined", -1}};
      }
    }
  }
  return {};
}

Result<void, PluginError> Plugin::instantiate() {
  instance_ = nullptr;
  {
    std::lock_guard lock(cancel_target_->mutex);
    cancel_target_->store = nullptr;
  }
  store_.reset();
  // The vars live on into the new instance (the host may have set some before the first call),
  // except after `_start`, as in the reference.
  std::map<std::string, std::string, std::less<>> vars;
  uint64_t var_bytes = 0;
  if (kernel_ && !vars_cleared_) {
    vars = std::move(kernel_->vars);
    var_bytes = kernel_->var_bytes;
  }
  vars_cleared_ = false;
  kernel_.reset();  // its region is charged to the old budget
  budget_ = std::make_unique<MemoryBudget>();
  if (quota_.memory_bytes) budget_->limit = *quota_.memory_bytes;
  kernel_ = std::make_unique<Kernel>(budget_.get());
  Kernel& k = *kernel_;
  k.vars = std::move(vars);
  k.var_bytes = var_bytes;
  k.config = config_;
  k.quota = quota_;
  k.log_level = options_.log_level;
  k.log_sink = options_.log_sink;
  k.allowed_hosts = manifest_.allowed_hosts;
  k.http_response_headers = options_.http_response_headers;

  // Every host function goes through the one path: the table's rows, the grants, the gate.
  stats_.rows.clear();  // the old instance's functions (which point at them) are gone with it
  HostImpls impls;
  add_kernel_impls(impls, k);
  const LinkContext context = link_context(&k);
  if (context.wasi) {
    const Grants* grants = context.grants;
    const bool may_read = !grants || grants->allows(capability::kFilesystemRead);
    const bool may_write = !grants || grants->allows(capability::kFilesystemWrite);
    auto cfg = std::make_shared<wasi::WasiConfig>();
    for (const auto& [host, guest] : manifest_.allowed_paths) {
      if (!may_read) break;  // no filesystem capability: no mounts at all
      wasi::WasiConfig::Mount mount = wasi::mount_from_manifest(host, guest);
      mount.read_only = mount.read_only || !may_write;
      cfg->mounts.push_back(std::move(mount));
    }
    if (!options_.wasi_stdio) {
      cfg->write_stdout = [](std::string_view) {};
      cfg->write_stderr = [](std::string_view) {};
    }
    if (options_.wasi_stdout) cfg->write_stdout = options_.wasi_stdout;
    if (options_.wasi_stderr) cfg->write_stderr = options_.wasi_stderr;
    cfg->env = options_.wasi_env;
    wasi::add_wasi_impls(impls, cfg);
  }
  for (const PluginFunction& f : options_.functions) {
    Kernel* kp = &k;
    impls.add(f.module, f.name,
              HostImpl{nullptr, nullptr,
                       [kp, callback = f.callback, data = f.user_data](
                           CallContext& ctx, std::span<const Value> a, std::span<Value> r) {
                         CurrentPlugin current(*kp, ctx, data.get());
                         return callback(current, a, r);
                       }});
  }
  linker_ = std::make_unique<Linker>();
  for (const Module& m : modules_) {
    auto linked = link_imports(*linker_, m.compiled->module(), impls, context);
    if (!linked)
      return Failure{
          PluginError{linked.error().denied ? ErrorKind::Denied : ErrorKind::InvalidModule,
                      std::move(linked.error().message), -1}};
  }

  store_ = std::make_unique<Store>(*engine_);
  store_->set_budget(budget_.get());
  {
    std::lock_guard lock(cancel_target_->mutex);
    cancel_target_->store = store_.get();
  }
  return {};
}

Result<void, PluginError> Plugin::start_instance() {
  // As in the reference, whatever fails while instantiating or initialising has rc -1 (a trap
  // here is not the call's trap: 134 is for the called export); init traps say which init failed.
  auto fail = [this](const ExecError& e, std::string_view during = {}) {
    PluginError error = error_from(e);
    if (e.kind == ExecError::Kind::Trap) {
      error.rc = -1;
      if (!during.empty()) error.message = std::string(during) + ": " + error.message;
    }
    return Failure{std::move(error)};
  };
  for (const Module& m : modules_) {
    auto instance = store_->instantiate(m.compiled, *linker_);
    if (!instance) return fail(instance.error());
    if (m.name == "main") {
      instance_ = *instance;
      continue;
    }
    // A module linked by name is initialised as the reference's linker does it: a reactor's
    // `_initialize`, once, when it is instantiated (so before the main module and its init).
    Function* init = (*instance)->exported_function("_initialize");
    if (init && init->type->params.empty() && init->type->results.empty()) {
      if (auto r = store_->call(*init, {}); !r)
        return fail(r.error(), "failed to initialize linked module " + quote_untrusted(m.name));
    }
    linker_->define_instance(m.name, **instance);
  }
  // As in the reference, the initial memories (and here tables) were charged against the whole
  // budget; it is refilled, and from now on every growth is charged for the instance's lifetime.
  budget_->used = 0;
  budget_->exhausted = false;
  // Initialisation, once per instance, as the reference does it.
  auto run_if = [&](std::string_view name, std::initializer_list<ValType> results,
                    std::span<const Value> args) -> Result<bool, ExecError> {
    Function* f = instance_->exported_function(name);
    if (!f || f->type->results != std::vector<ValType>(results)) return false;
    if (f->type->params.size() != args.size()) return false;
    auto r = store_->call(*f, args);
    if (!r) return Failure{std::move(r.error())};
    return true;
  };
  if (Function* hs = instance_->exported_function("hs_init"); hs) {
    if (auto r = run_if("_initialize", {}, {}); !r)
      return fail(r.error(), "failed to initialize Haskell reactor runtime");
    const Value zeros[2] = {Value::i32(0), Value::i32(0)};
    if (auto r = run_if("hs_init", {}, zeros); !r)
      return fail(r.error(), "failed to initialize Haskell using hs_init");
  } else {
    auto r = run_if("__wasm_call_ctors", {}, {});
    if (!r) return fail(r.error(), "failed to initialize wasi runtime");
    if (!*r)
      if (auto r2 = run_if("_initialize", {}, {}); !r2)
        return fail(r2.error(), "failed to initialize wasi runtime");
  }
  return {};
}

PluginError Plugin::error_from(const ExecError& e) const {
  using enum ErrorKind;
  switch (e.kind) {
    case ExecError::Kind::OutOfFuel: return {OutOfFuel, "plugin ran out of fuel", -1};
    case ExecError::Kind::Interrupted:
      if (cpu_quota_hit_.load(std::memory_order_relaxed))
        return {Denied,
                "policy: the call used more than " + quota_number(*quota_.cpu_seconds_per_call) +
                    " s of CPU time (cpu_seconds_per_call)",
                -1};
      // The reference says "timeout" for both; the kind tells them apart.
      return {cancel_target_->cancelled.load(std::memory_order_relaxed) ? Cancelled : Timeout,
              "timeout", -1};
    case ExecError::Kind::Limit:
      if (e.detail == "oom" || budget_->exhausted) return {Oom, "oom", -1};
      return {Trap, e.message(), -1};
    case ExecError::Kind::Exit:
      return {ExitCode, "Exited with i32 exit status " + std::to_string(e.exit_code), e.exit_code};
    case ExecError::Kind::Trap:
      if (e.trap == TrapCode::HostError) return {host_error_kind(e.detail), e.detail, -1};
      if (e.trap == TrapCode::MemoryLimit) return {Oom, "oom", -1};
      return {Trap, e.message(), 134};
    case ExecError::Kind::Link: return {InvalidModule, e.message(), -1};
    case ExecError::Kind::Usage: return {HostError, e.message(), -1};
  }
  return {HostError, e.message(), -1};
}

Result<void, PluginError> Plugin::warm() {
  try {
    if (!store_ || needs_fresh_instance_) {
      needs_fresh_instance_ = false;
      if (auto ok = instantiate(); !ok) return Failure{std::move(ok.error())};
    }
    if (instance_) return {};
    Store& store = *store_;
    store.clear_interrupt();
    if (quota_.fuel_per_call) store.set_fuel(*quota_.fuel_per_call);
    if (quota_.timeout) store.set_deadline(*quota_.timeout);
    auto ok = start_instance();
    if (quota_.timeout) store.clear_deadline();
    if (!ok) needs_fresh_instance_ = true;
    return ok;
  } catch (const std::bad_alloc&) {
    needs_fresh_instance_ = true;
    return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
  }
}

struct PluginSnapshot {
  std::shared_ptr<const StoreSnapshot> store;
  std::vector<const CompiledModule*> modules;
  std::map<std::string, std::string, std::less<>> config;  // what init may have read
  std::map<std::string, std::string, std::less<>> vars;
  uint64_t var_bytes = 0;
  uint64_t budget_used = 0;  // what init grew (charged for the instance's lifetime)
};

Result<std::shared_ptr<const PluginSnapshot>, PluginError> Plugin::snapshot(
    MemoryImage::Mode mode) const {
  try {
    if (!store_ || !instance_ || needs_fresh_instance_)
      return Failure{PluginError{ErrorKind::HostError,
                                 "snapshot: the plugin is not initialised (warm() it first)", -1}};
    if (called_)
      return Failure{PluginError{ErrorKind::HostError,
                                 "snapshot: the plugin has been called (a snapshot is taken "
                                 "after init, before any call, so that it holds no caller's data)",
                                 -1}};
    for (const HostRowCount& c : stats_.rows)
      if (c.calls && !c.row->snapshot_carries)
        return Failure{PluginError{ErrorKind::HostError,
                                   "snapshot: the plugin's init called " + c.row->qualified_name() +
                                       ", whose effect a snapshot cannot carry to another instance",
                                   -1}};
    auto store = store_->snapshot(mode);
    if (!store) return Failure{PluginError{ErrorKind::HostError, store.error().message(), -1}};
    auto snap = std::make_shared<PluginSnapshot>();
    snap->store = std::move(*store);
    for (const Module& m : modules_) snap->modules.push_back(m.compiled.get());
    snap->config = kernel_->config;
    snap->vars = kernel_->vars;
    snap->var_bytes = kernel_->var_bytes;
    snap->budget_used = budget_->used;
    return std::shared_ptr<const PluginSnapshot>(std::move(snap));
  } catch (const std::bad_alloc&) {
    return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
  }
}

Result<void, PluginError> Plugin::warm_from(const PluginSnapshot& snap) {
  try {
    if (instance_ || called_)
      return Failure{
          PluginError{ErrorKind::HostError, "snapshot: the plugin has started already", -1}};
    bool same_modules = snap.modules.size() == modules_.size();
    for (size_t i = 0; same_modules && i < modules_.size(); ++i)
      same_modules = snap.modules[i] == modules_[i].compiled.get();
    if (!same_modules)
      return Failure{
          PluginError{ErrorKind::HostError, "snapshot: taken from a plugin of other modules", -1}};
    if (snap.config != config_)
      return Failure{PluginError{ErrorKind::HostError,
                                 "snapshot: taken from a plugin with another config", -1}};
    // What init grew must fit this plugin's budget: refused before anything is made.
    if (quota_.memory_bytes && snap.budget_used > *quota_.memory_bytes)
      return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
    needs_fresh_instance_ = false;
    if (auto ok = instantiate(); !ok) return Failure{std::move(ok.error())};
    auto fail = [this](const ExecError& e) {
      instance_ = nullptr;
      needs_fresh_instance_ = true;
      return Failure{error_from(e)};
    };
    // The objects only (no segment, no start, no init): the snapshot has what they did.
    for (const Module& m : modules_) {
      auto instance = store_->instantiate(m.compiled, *linker_, Store::Segments::Skip);
      if (!instance) return fail(instance.error());
      if (m.name == "main")
        instance_ = *instance;
      else
        linker_->define_instance(m.name, **instance);
    }
    if (auto ok = store_->restore(*snap.store); !ok) return fail(ok.error());
    budget_->used = snap.budget_used;
    budget_->exhausted = false;
    kernel_->vars = snap.vars;
    kernel_->var_bytes = snap.var_bytes;
    return {};
  } catch (const std::bad_alloc&) {
    instance_ = nullptr;
    needs_fresh_instance_ = true;
    return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
  }
}

Result<std::string_view, PluginError> Plugin::call_unguarded(std::string_view function,
                                                             std::span<const uint8_t> input,
                                                             const CallOptions& options) {
  fuel_used_ = 0;
  called_ = true;
  if (!function_exists(function)) return Failure{function_not_found(function)};
  if (!store_ || needs_fresh_instance_) {
    needs_fresh_instance_ = false;
    if (auto ok = instantiate(); !ok) return Failure{std::move(ok.error())};
  }
  Store& store = *store_;
  kernel_->host_context = options.host_context;  // the kernel may be new (instantiate)
  cancel_target_->cancelled.store(false, std::memory_order_relaxed);
  store.clear_interrupt();
  budget_->exhausted = false;
  const std::optional<uint64_t> fuel = quota_.fuel_per_call;
  if (fuel) store.set_fuel(*fuel);
  if (call_timeout_) {
    store.set_deadline(*call_timeout_);
    kernel_->deadline = std::chrono::steady_clock::now() + *call_timeout_;
  }
  // cpu_seconds_per_call: this thread's CPU time, watched by the deadline's watchdog.
  clockid_t cpu_clock{};
  const bool watch_cpu =
      quota_.cpu_seconds_per_call && ::pthread_getcpuclockid(::pthread_self(), &cpu_clock) == 0;
  if (watch_cpu) {
    cpu_quota_hit_.store(false, std::memory_order_relaxed);
    const double limit = *quota_.cpu_seconds_per_call;
    const double start = cpu_seconds(cpu_clock);
    std::atomic<bool>* hit = &cpu_quota_hit_;
    store.set_watch(
        [cpu_clock, start, limit, hit] {
          if (cpu_seconds(cpu_clock) - start <= limit) return false;
          hit->store(true, std::memory_order_relaxed);
          return true;
        },
        std::chrono::milliseconds(std::clamp<int64_t>(static_cast<int64_t>(limit * 100), 1, 10)));
  }
  // Only what was set is cleared (clearing takes the watchdog's lock).
  struct ClearDeadline {
    Store& store;
    bool deadline, watch;
    ~ClearDeadline() {
      if (deadline) store.clear_deadline();
      if (watch) store.clear_watch();
    }
  } clear_deadline{store, call_timeout_.has_value(), watch_cpu};

  auto finish_fuel = [&] {
    if (fuel) fuel_used_ = *fuel - std::min(*fuel, store.fuel());
  };
  if (!instance_) {
    if (auto ok = start_instance(); !ok) {
      finish_fuel();
      // A failed start leaves nothing usable: the next call starts over.
      needs_fresh_instance_ = true;
      return Failure{std::move(ok.error())};
    }
  }
  if (!kernel_->begin_call(input)) return Failure{PluginError{ErrorKind::Oom, "oom", -1}};

  auto result = store.call(*instance_, function, {});
  finish_fuel();
  if (function == "_start") needs_fresh_instance_ = vars_cleared_ = true;
  Kernel& k = *kernel_;
  if (!result) {
    const ExecError& e = result.error();
    if (e.kind == ExecError::Kind::Exit && e.exit_code == 0) {
      // proc_exit(0) is success.
    } else {
      PluginError error = error_from(e);
      if (cpu_quota_hit_.load(std::memory_order_relaxed) || kernel_->egress_refused)
        account_->record(
            {GateEvent::Kind::QuotaRefused, account_->plugin_id(), "", "", error.message});
      if (!kernel_->blocked_host.empty()) {
        error.kind = ErrorKind::Denied;
        account_->record({GateEvent::Kind::HostBlocked, account_->plugin_id(),
                          "extism:host/env http_request", std::string(capability::kNetwork),
                          error.message, kernel_->blocked_host});
      }
      if (kernel_->var_refused || kernel_->egress_refused) error.kind = ErrorKind::Denied;
      // The reference gives rc 134 only to a trap without an error set (a PDK's abort handler
      // sets one, then traps); the message stays the trap's.
      if (error.rc == 134 && kernel_->error_message()) {
        error.rc = -1;
        error.kind = ErrorKind::PluginError;
      }
      return Failure{std::move(error)};
    }
  }
  const int32_t rc = result && !result->empty() ? result->front().as_i32() : 0;
  if (auto message = k.error_message())
    return Failure{PluginError{ErrorKind::PluginError, *message, rc != 0 ? rc : -1}};
  if (rc != 0)
    return Failure{PluginError{ErrorKind::PluginError,
                               "Returned non-zero exit code: " + std::to_string(rc), rc}};
  if (quota_.max_output_bytes && k.output_length > *quota_.max_output_bytes) {
    std::string message = "policy: output of " + std::to_string(k.output_length) +
                          " bytes is over max_output_bytes (" +
                          std::to_string(*quota_.max_output_bytes) + ")";
    account_->record({GateEvent::Kind::QuotaRefused, account_->plugin_id(), "", "", message});
    return Failure{PluginError{ErrorKind::Denied, std::move(message), -1}};
  }
  auto output = k.output();
  if (!output)
    return Failure{PluginError{ErrorKind::PluginError,
                               "output_set: bytes out of bounds of the kernel region", -1}};
  return *output;
}

// "Function not found: NAME", or what the export named so is when it is not an Extism function.
PluginError Plugin::function_not_found(std::string_view function) const {
  const std::string name = escape_untrusted(function, 256);
  const warden::Module& module = modules_.back().compiled->module();
  for (const Export& e : module.exports) {
    if (e.name != function) continue;
    if (e.kind != ExternKind::Func)
      return PluginError{ErrorKind::FunctionNotFound,
                         "Function not found: " + name + " is a " +
                             std::string(extern_kind_name(e.kind)) + " export, not a function",
                         -1};
    return PluginError{ErrorKind::FunctionNotFound,
                       "Function not found: " + name + " has type " +
                           to_string(module.func_type(FuncIdx{e.index})) +
                           "; an Extism function takes no parameters and returns i32 or nothing",
                       -1};
  }
  return PluginError{ErrorKind::FunctionNotFound, "Function not found: " + name, -1};
}

bool Plugin::function_exists(std::string_view function) const {
  const warden::Module& module = modules_.back().compiled->module();
  for (const Export& e : module.exports) {
    if (e.kind != ExternKind::Func || e.name != function) continue;
    const FuncType& type = module.func_type(FuncIdx{e.index});
    return is_void_to(type, {I32}) || is_void_to(type, {});
  }
  return false;
}

std::unique_ptr<Kernel> Plugin::first_kernel() const {
  auto kernel = std::make_unique<Kernel>(nullptr);
  kernel->quota = quota_;  // the host's set_var counts against max_var_bytes before any call
  return kernel;
}

std::optional<std::string_view> Plugin::var(std::string_view key) const {
  auto it = kernel_->vars.find(key);
  if (it == kernel_->vars.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<void, PluginError> Plugin::set_var(std::string_view key, std::span<const uint8_t> value) {
  if (in_call_)
    return Failure{PluginError{ErrorKind::HostError, "set_var: refused during a call", -1}};
  try {
    const std::string_view bytes(reinterpret_cast<const char*>(value.data()), value.size());
    if (auto refused = kernel_->set_var(key, bytes))
      return Failure{PluginError{ErrorKind::Denied, std::string(*refused), -1}};
    return {};
  } catch (const std::bad_alloc&) {
    return Failure{PluginError{ErrorKind::Oom, "oom", -1}};
  }
}

void Plugin::remove_var(std::string_view key) {
  if (!in_call_) kernel_->set_var(key, std::nullopt);
}

Result<void, PluginError> Plugin::reset() {
  if (in_call_)
    return Failure{PluginError{ErrorKind::HostError, "reset: refused during a call", -1}};
  kernel_->clear_blocks();
  return {};
}

void Plugin::merge_config(const std::map<std::string, std::optional<std::string>>& changes) {
  for (const auto& [key, value] : changes) {
    if (value) {
      config_[key] = *value;
    } else {
      config_.erase(key);
    }
  }
  if (kernel_) kernel_->config = config_;
}

Result<std::shared_ptr<const CompiledPlugin>, PluginError> CompiledPlugin::adopt(
    Result<std::unique_ptr<Plugin>, PluginError> prototype) {
  if (!prototype) return Failure{std::move(prototype.error())};
  std::shared_ptr<CompiledPlugin> compiled(new CompiledPlugin());
  compiled->prototype_ = std::move(*prototype);
  return std::shared_ptr<const CompiledPlugin>(std::move(compiled));
}

Result<std::shared_ptr<const CompiledPlugin>, PluginError> CompiledPlugin::create(
    std::span<const uint8_t> wasm, PluginOptions options) {
  return adopt(Plugin::create(wasm, std::move(options)));
}

Result<std::shared_ptr<const CompiledPlugin>, PluginError> CompiledPlugin::create(
    const Manifest& manifest, PluginOptions options) {
  return adopt(Plugin::create(manifest, std::move(options)));
}

CompiledPlugin::~CompiledPlugin() = default;

Result<std::unique_ptr<Plugin>, PluginError> CompiledPlugin::instantiate() const {
  return Plugin::create_like(*prototype_, prototype_->options_);
}

void Plugin::set_config(std::map<std::string, std::string, std::less<>> config) {
  config_ = std::move(config);
  if (kernel_) kernel_->config = config_;
}

void Plugin::update_config(const std::map<std::string, std::string>& changes) {
  for (const auto& [key, value] : changes) {
    if (value.empty()) {
      config_.erase(key);
    } else {
      config_[key] = value;
    }
  }
  if (kernel_) kernel_->config = config_;
}

void Plugin::allow_http_response_headers() {
  options_.http_response_headers = true;
  if (kernel_) kernel_->http_response_headers = true;
}

CancelHandle Plugin::cancel_handle() const {
  CancelHandle handle;
  handle.target_ = cancel_target_;
  return handle;
}

}  // namespace warden::extism
