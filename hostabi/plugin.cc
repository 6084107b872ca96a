#include "hostabi/plugin.h"

#include <fcntl.h>

#include <filesystem>
#include <map>

#include "hostabi/wasi.h"
#include "hostabi/wasi_path.h"
#include "decoder/untrusted_text.h"

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
    const std::shared_ptr<const Engine>& engine, std::vector<uint8_t> bytes) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, const Engine*>, std::weak_ptr<const CompiledModule>> cache;
  const auto key = std::make_pair(sha256_hex(bytes), engine.get());
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end())
      if (auto module = it->second.lock()) return module;
  }
  auto compiled = CompiledModule::compile(*engine, std::move(bytes));
  if (!compiled)
    return Failure{PluginError{"invalid wasm module: " + compiled.error().to_string(), -1}};
  std::lock_guard lock(mutex);
  for (auto it = cache.begin(); it != cache.end();)  // drop entries of freed modules
    it = it->second.expired() ? cache.erase(it) : std::next(it);
  cache[key] = *compiled;
  return *compiled;
}

bool is_void_to(const FuncType& type, std::initializer_list<ValType> results) {
  return type.params.empty() && type.results == std::vector<ValType>(results);
}

std::string type_text(const FuncType& type) {
  auto list = [](const std::vector<ValType>& types) {
    std::string s;
    for (ValType t : types) s += (s.empty() ? "" : ", ") + std::string(valtype_name(t));
    return "(" + s + ")";
  };
  return list(type.params) + " -> " + list(type.results);
}

}  // namespace

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
    return Failure{PluginError{"out of host memory while creating the plugin", -1}};
  }
}

Result<std::string_view, PluginError> Plugin::call(std::string_view function,
                                                   std::span<const uint8_t> input) {
  try {
    return call_unguarded(function, input);
  } catch (const std::bad_alloc&) {
    needs_fresh_instance_ = true;  // whatever was half done, the next call starts over
    return Failure{PluginError{"oom", -1}};
  }
}

Result<std::unique_ptr<Plugin>, PluginError> Plugin::create_unguarded(const Manifest& manifest,
                                                                      PluginOptions options) {
  std::unique_ptr<Plugin> plugin(new Plugin());
  plugin->engine_ = shared_engine(options.fuel.has_value());
  plugin->options_ = std::move(options);
  // Everything but the sources (their bytes live on in the compiled modules).
  Manifest& own = plugin->manifest_;
  own.max_pages = manifest.max_pages;
  own.max_http_response_bytes = manifest.max_http_response_bytes;
  own.max_var_bytes = manifest.max_var_bytes;
  own.config = manifest.config;
  own.allowed_hosts = manifest.allowed_hosts;
  own.allowed_paths = manifest.allowed_paths;
  own.timeout_ms = manifest.timeout_ms;
  plugin->config_.insert(manifest.config.begin(), manifest.config.end());
  if (manifest.wasm.empty())
    return Failure{PluginError{"a plugin needs at least one wasm module", -1}};
  for (const auto& [host, guest] : manifest.allowed_paths) {
    const std::string dir = host.starts_with("ro:") ? host.substr(3) : host;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      return Failure{
          PluginError{"allowed_paths: " + escape_untrusted(dir) + " is not a directory", -1}};
    wasi::UniqueFd probe(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!probe || wasi::on_host_pseudo_fs(probe.get()))
      return Failure{PluginError{"allowed_paths: " + escape_untrusted(dir) +
                                     " is a host pseudo file system (procfs, sysfs, ...): refused",
                                 -1}};
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
            "duplicate module name " + quote_untrusted(source.module_name()) + " in the manifest",
            -1}};
    auto bytes = load_source(source, fetch);
    if (!bytes) return Failure{PluginError{bytes.error().message, -1}};
    auto compiled = compile_shared(plugin->engine_, std::move(*bytes));
    if (!compiled) return Failure{std::move(compiled.error())};
    if (i == main_index) {
      main_module = *compiled;
    } else {
      plugin->modules_.push_back({source.module_name(), *compiled});
    }
  }
  plugin->modules_.push_back({"main", main_module});
  if (auto ok = plugin->check_imports(); !ok) return Failure{std::move(ok.error())};
  plugin->kernel_ = std::make_unique<Kernel>(nullptr);
  return plugin;
}

Plugin::~Plugin() {
  std::lock_guard lock(cancel_target_->mutex);
  cancel_target_->store = nullptr;
}

Result<void, PluginError> Plugin::check_imports() const {
  for (const Module& m : modules_) {
    const warden::Module& module = m.compiled->module();
    for (const Import& import : module.imports) {
      // Appended piece by piece: `"`" + std::string + ...` trips GCC 12's -Wrestrict false
      // positive.
      std::string where = "`";
      where.append(escape_untrusted(import.module)).append("::");
      where.append(escape_untrusted(import.name)).append("`");
      if (import.module == kEnvModule) {
        const KernelFunctionInfo* info = find_kernel_function(import.name);
        if (import.kind != ExternKind::Func)
          return Failure{PluginError{
              "unknown import: " + where + ": extism:host/env exports only functions", -1}};
        if (!info)
          return Failure{
              PluginError{"unknown import: " + where + " is not an Extism kernel function", -1}};
        const FuncType& type = module.types[import.func_type.value];
        if (!(type == info->type))
          return Failure{PluginError{"incompatible import type for " + where +
                                         ": the plugin expects " + type_text(type) +
                                         ", the kernel has " + type_text(info->type),
                                     -1}};
        continue;
      }
      if (import.module == wasi::kModule) {
        if (!options_.wasi)
          return Failure{PluginError{
              "unknown import: " + where + " has not been defined (WASI is not enabled)", -1}};
        continue;
      }
      bool found = false;
      for (const Module& other : modules_) found |= other.name == import.module && &other != &m;
      for (const PluginFunction& f : options_.functions) {
        if (f.module == import.module && f.name == import.name) {
          if (import.kind != ExternKind::Func || !(module.types[import.func_type.value] == f.type))
            return Failure{PluginError{"incompatible import type for " + where +
                                           ": the host function is " + type_text(f.type),
                                       -1}};
          found = true;
        }
      }
      if (!found)
        return Failure{PluginError{"unknown import: " + where + " has not been defined", -1}};
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
  budget_ = std::make_unique<MemoryBudget>();
  if (manifest_.max_pages) *budget_ = MemoryBudget::of_pages(*manifest_.max_pages);
  kernel_ = std::make_unique<Kernel>(budget_.get());
  Kernel& k = *kernel_;
  k.config = config_;
  k.limits.max_var_bytes = manifest_.max_var_bytes;
  k.limits.max_http_response_bytes = manifest_.max_http_response_bytes;
  k.limits.max_log_message_bytes = options_.max_log_message_bytes;
  k.limits.max_log_bytes_per_call = options_.max_log_bytes_per_call;
  k.log_level = options_.log_level;
  k.log_sink = options_.log_sink;
  k.allowed_hosts = manifest_.allowed_hosts;
  k.http_response_headers = options_.http_response_headers;

  linker_ = std::make_unique<Linker>();
  define_kernel(*linker_, k, options_.fuel.has_value());
  if (options_.wasi) {
    auto cfg = std::make_shared<wasi::WasiConfig>();
    for (const auto& [host, guest] : manifest_.allowed_paths) {
      wasi::WasiConfig::Mount mount;
      mount.read_only = host.starts_with("ro:");
      mount.host_path = mount.read_only ? host.substr(3) : host;
      mount.guest_path = guest;
      cfg->mounts.push_back(std::move(mount));
    }
    if (!options_.wasi_stdio) {
      cfg->write_stdout = [](std::string_view) {};
      cfg->write_stderr = [](std::string_view) {};
    }
    wasi::define_wasi(*linker_, cfg);
  }
  for (const PluginFunction& f : options_.functions) {
    Kernel* kp = &k;
    linker_->define_function(f.module, f.name, f.type,
                             [kp, callback = f.callback, data = f.user_data](
                                 CallContext& ctx, std::span<const Value> a, std::span<Value> r) {
                               CurrentPlugin current(*kp, ctx, data.get());
                               return callback(current, a, r);
                             });
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
  switch (e.kind) {
    case ExecError::Kind::OutOfFuel: return {"plugin ran out of fuel", -1};
    case ExecError::Kind::Interrupted: return {"timeout", -1};
    case ExecError::Kind::Limit:
      return {e.detail == "oom" || budget_->exhausted ? "oom" : e.message(), -1};
    case ExecError::Kind::Exit:
      return {"Exited with i32 exit status " + std::to_string(e.exit_code), e.exit_code};
    case ExecError::Kind::Trap:
      if (e.trap == TrapCode::HostError) return {e.detail, -1};
      if (e.trap == TrapCode::MemoryLimit) return {"oom", -1};
      return {e.message(), 134};
    case ExecError::Kind::Link:
    case ExecError::Kind::Usage: return {e.message(), -1};
  }
  return {e.message(), -1};
}

Result<std::string_view, PluginError> Plugin::call_unguarded(std::string_view function,
                                                             std::span<const uint8_t> input) {
  fuel_used_ = 0;
  if (!function_exists(function))
    return Failure{PluginError{"Function not found: " + std::string(function), -1}};
  if (!store_ || needs_fresh_instance_) {
    needs_fresh_instance_ = false;
    if (auto ok = instantiate(); !ok) return Failure{std::move(ok.error())};
  }
  Store& store = *store_;
  store.clear_interrupt();
  budget_->exhausted = false;
  if (options_.fuel) store.set_fuel(*options_.fuel);
  if (manifest_.timeout_ms) {
    store.set_deadline(std::chrono::milliseconds(*manifest_.timeout_ms));
    kernel_->deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(*manifest_.timeout_ms);
  }
  struct ClearDeadline {
    Store& store;
    ~ClearDeadline() { store.clear_deadline(); }
  } clear_deadline{store};

  auto finish_fuel = [&] {
    if (options_.fuel) fuel_used_ = *options_.fuel - std::min(*options_.fuel, store.fuel());
  };
  if (!instance_) {
    if (auto ok = start_instance(); !ok) {
      finish_fuel();
      // A failed start leaves nothing usable: the next call starts over.
      needs_fresh_instance_ = true;
      return Failure{std::move(ok.error())};
    }
  }
  if (!kernel_->begin_call(input)) return Failure{PluginError{"oom", -1}};

  auto result = store.call(*instance_, function, {});
  finish_fuel();
  if (function == "_start") needs_fresh_instance_ = true;
  Kernel& k = *kernel_;
  if (!result) {
    const ExecError& e = result.error();
    if (e.kind == ExecError::Kind::Exit && e.exit_code == 0) {
      // proc_exit(0) is success.
    } else {
      PluginError error = error_from(e);
      // The reference gives rc 134 only to a trap without an error set (a PDK's abort handler
      // sets one, then traps); the message stays the trap's.
      if (error.rc == 134 && kernel_->error_message()) error.rc = -1;
      return Failure{std::move(error)};
    }
  }
  const int32_t rc = result && !result->empty() ? result->front().as_i32() : 0;
  if (auto message = k.error_message()) return Failure{PluginError{*message, rc != 0 ? rc : -1}};
  if (rc != 0)
    return Failure{PluginError{"Returned non-zero exit code: " + std::to_string(rc), rc}};
  auto output = k.output();
  if (!output)
    return Failure{PluginError{"output_set: bytes out of bounds of the kernel region", -1}};
  return *output;
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

CancelHandle Plugin::cancel_handle() const {
  CancelHandle handle;
  handle.target_ = cancel_target_;
  return handle;
}

}  // namespace warden::extism
