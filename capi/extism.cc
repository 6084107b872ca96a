// The libextism C API (capi/extism.h) over the C++ Plugin API (hostabi/plugin.h): every function
// here converts, delegates and keeps what C callers need to stay valid (output, error text, id,
// cancel handle). No exception crosses into C: each entry point catches and fails instead.
#include "capi/extism.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "capi/warden_extism.h"
#include "decoder/byte_reader.h"
#include "hostabi/manifest.h"
#include "hostabi/plugin.h"

using warden::extism::CallOptions;
using warden::extism::CompiledPlugin;
using warden::extism::CurrentPlugin;
using warden::extism::ErrorKind;
using warden::extism::LogLevel;
using warden::extism::Manifest;
using warden::extism::Plugin;
using warden::extism::PluginError;
using warden::extism::PluginFunction;
using warden::extism::PluginOptions;

struct ExtismFunction {
  PluginFunction function;  // copied into every plugin made with it; user_data is shared
};

struct ExtismCancelHandle {
  warden::extism::CancelHandle handle;
};

struct ExtismCompiledPlugin {
  std::shared_ptr<const CompiledPlugin> compiled;
};

struct ExtismCurrentPlugin {
  CurrentPlugin* current;
};

struct ExtismPlugin {
  std::unique_ptr<Plugin> plugin;
  ExtismCancelHandle cancel;
  std::mutex mutex;  // calls, and what they leave (output, error), one at a time
  std::string_view output;
  std::optional<std::string> error;
  ErrorKind error_kind = ErrorKind::HostError;
  uint8_t id[16];
};

namespace {

thread_local WardenErrorKind last_create_error = WARDEN_OK;

WardenErrorKind c_kind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Timeout: return WARDEN_TIMEOUT;
    case ErrorKind::Cancelled: return WARDEN_CANCELLED;
    case ErrorKind::OutOfFuel: return WARDEN_OUT_OF_FUEL;
    case ErrorKind::Oom: return WARDEN_OOM;
    case ErrorKind::Trap: return WARDEN_TRAP;
    case ErrorKind::PluginError: return WARDEN_PLUGIN_ERROR;
    case ErrorKind::ExitCode: return WARDEN_EXIT_CODE;
    case ErrorKind::FunctionNotFound: return WARDEN_FUNCTION_NOT_FOUND;
    case ErrorKind::Denied: return WARDEN_DENIED;
    case ErrorKind::InvalidModule: return WARDEN_INVALID_MODULE;
    case ErrorKind::InvalidManifest: return WARDEN_INVALID_MANIFEST;
    case ErrorKind::HostError: return WARDEN_HOST_ERROR;
  }
  return WARDEN_HOST_ERROR;
}

// *errmsg for the constructors: malloc'd, so extism_plugin_new_error_free is free().
void report(char** errmsg, std::string_view prefix, const PluginError& error) {
  last_create_error = c_kind(error.kind);
  if (!errmsg) return;
  std::string text = std::string(prefix) + error.message;
  *errmsg = static_cast<char*>(std::malloc(text.size() + 1));
  if (*errmsg) std::memcpy(*errmsg, text.c_str(), text.size() + 1);
}

// Plugins' log lines, for every plugin of the process (libextism's logging is global too).
struct Logging {
  std::mutex mutex;
  LogLevel level = LogLevel::Off;
  FILE* file = nullptr;  // extism_log_file
  bool owns_file = false;
  bool buffered = false;  // extism_log_custom
  std::deque<std::string> lines;
  static constexpr size_t kMaxLines = 10000;

  void write(LogLevel at, std::string_view message) {
    std::timespec now{};
    std::timespec_get(&now, TIME_UTC);
    std::tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string level(warden::extism::log_level_name(at));
    for (char& c : level) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    char fraction[24];
    std::snprintf(fraction, sizeof fraction, ".%06ldZ", now.tv_nsec / 1000);
    // The message is sanitised already (the kernel escapes control bytes): one line each.
    std::string line = std::string(stamp) + fraction + " " + level + " extism::pdk: ";
    line.append(message).push_back('\n');
    std::lock_guard lock(mutex);
    if (buffered) {
      if (lines.size() == kMaxLines) lines.pop_front();
      lines.push_back(std::move(line));
    } else if (file) {
      std::fwrite(line.data(), 1, line.size(), file);
      std::fflush(file);
    }
  }
};

Logging& logging() {
  static Logging* instance = new Logging();  // never destroyed: plugins may log at exit
  return *instance;
}

// "info", or a filter "a=debug,extism=trace" (extism's level wins), as libextism reads them; an
// unknown level is the default, error.
LogLevel parse_level(const char* text) {
  if (!text) return LogLevel::Error;
  std::string_view filter = text;
  std::optional<LogLevel> level = warden::extism::parse_log_level(filter);
  if (level) return *level;
  size_t at = 0;
  while (at <= filter.size()) {
    size_t end = filter.find(',', at);
    if (end == std::string_view::npos) end = filter.size();
    std::string_view part = filter.substr(at, end - at);
    if (part.starts_with("extism=")) {
      if (auto l = warden::extism::parse_log_level(part.substr(7))) return *l;
    }
    at = end + 1;
  }
  return LogLevel::Error;
}

std::optional<warden::ValType> wasm_type(ExtismValType t) {
  switch (t) {
    case I32: return warden::ValType::I32;
    case I64: return warden::ValType::I64;
    case F32: return warden::ValType::F32;
    case F64: return warden::ValType::F64;
    default: return std::nullopt;
  }
}

ExtismVal to_c(const warden::Value& v) {
  ExtismVal out{};
  switch (v.type) {
    case warden::ValType::I32: out.t = I32, out.v.i32 = v.as_i32(); break;
    case warden::ValType::I64: out.t = I64, out.v.i64 = v.as_i64(); break;
    case warden::ValType::F32: out.t = F32, out.v.f32 = v.as_f32(); break;
    default: out.t = F64, out.v.f64 = v.as_f64(); break;
  }
  return out;
}

// The result as the declared type says (what the host wrote in .t is not trusted).
warden::Value from_c(const ExtismVal& v, warden::ValType declared) {
  switch (declared) {
    case warden::ValType::I32: return warden::Value::i32(v.v.i32);
    case warden::ValType::I64: return warden::Value::i64(v.v.i64);
    case warden::ValType::F32: return warden::Value::f32(v.v.f32);
    default: return warden::Value::f64(v.v.f64);
  }
}

PluginOptions options_for(const ExtismFunction** functions, ExtismSize n_functions, bool with_wasi,
                          std::optional<uint64_t> fuel) {
  PluginOptions options;
  options.wasi = with_wasi;
  if (fuel) options.quota.fuel_per_call = *fuel;
  for (ExtismSize i = 0; functions && i < n_functions; ++i)
    if (functions[i]) options.functions.push_back(functions[i]->function);
  Logging& log = logging();
  {
    std::lock_guard lock(log.mutex);
    options.log_level = log.level;
  }
  if (options.log_level != LogLevel::Off)
    options.log_sink = [](LogLevel at, std::string_view message) { logging().write(at, message); };
  return options;
}

std::optional<PluginError> check_functions(const ExtismFunction** functions, ExtismSize n) {
  for (ExtismSize i = 0; functions && i < n; ++i)
    if (!functions[i]) return PluginError{ErrorKind::HostError, "Cannot pass null pointer", -1};
  return std::nullopt;
}

// Wasm bytes, or else a JSON manifest.
template <typename Made>
Made make_from_bytes(const uint8_t* wasm, ExtismSize size, PluginOptions options, auto&& create) {
  std::span<const uint8_t> bytes(wasm, wasm ? size : 0);
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "\0asm", 4) == 0)
    return create(bytes, std::move(options));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{')
    return Made(warden::Failure{PluginError{
        ErrorKind::InvalidModule,
        "neither a Wasm binary (no \\0asm header) nor a JSON manifest (warden does not read the "
        "WebAssembly text format)",
        -1}});
  auto manifest = warden::extism::parse_manifest(text);
  if (!manifest)
    return Made(warden::Failure{
        PluginError{ErrorKind::InvalidManifest, std::move(manifest.error().message), -1}});
  return create(*manifest, std::move(options));
}

ExtismPlugin* wrap(std::unique_ptr<Plugin> plugin) {
  auto* p = new ExtismPlugin();
  p->cancel.handle = plugin->cancel_handle();
  p->plugin = std::move(plugin);
  std::random_device random;
  for (size_t i = 0; i < 16; i += 4) {
    const uint32_t word = random();
    std::memcpy(p->id + i, &word, 4);
  }
  p->id[6] = static_cast<uint8_t>((p->id[6] & 0x0f) | 0x40);  // version 4
  p->id[8] = static_cast<uint8_t>((p->id[8] & 0x3f) | 0x80);  // RFC 4122 variant
  last_create_error = WARDEN_OK;
  return p;
}

// A Plugin or a CompiledPlugin (both have create(bytes or manifest, options)) for C: NULL and
// *errmsg on failure, else what `to_c` makes of it.
template <typename Made, typename ToC>
auto create_for_c(const uint8_t* wasm, ExtismSize wasm_size, const ExtismFunction** functions,
                  ExtismSize n_functions, bool with_wasi, std::optional<uint64_t> fuel,
                  char** errmsg, ToC to_c) -> decltype(to_c(nullptr)) {
  try {
    if (auto bad = check_functions(functions, n_functions)) {
      report(errmsg, "", *bad);
      return nullptr;
    }
    using Created = decltype(Made::create(std::span<const uint8_t>{}, PluginOptions{}));
    auto made = make_from_bytes<Created>(wasm, wasm_size,
                                         options_for(functions, n_functions, with_wasi, fuel),
                                         [](const auto& source, PluginOptions options) {
                                           return Made::create(source, std::move(options));
                                         });
    if (!made) {
      report(errmsg, "Unable to compile Extism plugin: ", made.error());
      return nullptr;
    }
    last_create_error = WARDEN_OK;
    return to_c(std::move(*made));
  } catch (...) {
    report(errmsg, "", PluginError{ErrorKind::Oom, "out of host memory", -1});
    return nullptr;
  }
}

ExtismPlugin* new_plugin(const uint8_t* wasm, ExtismSize wasm_size,
                         const ExtismFunction** functions, ExtismSize n_functions, bool with_wasi,
                         std::optional<uint64_t> fuel, char** errmsg) {
  return create_for_c<Plugin>(wasm, wasm_size, functions, n_functions, with_wasi, fuel, errmsg,
                              [](std::unique_ptr<Plugin> p) { return wrap(std::move(p)); });
}

ExtismCompiledPlugin* new_compiled(const uint8_t* wasm, ExtismSize wasm_size,
                                   const ExtismFunction** functions, ExtismSize n_functions,
                                   bool with_wasi, std::optional<uint64_t> fuel, char** errmsg) {
  return create_for_c<CompiledPlugin>(wasm, wasm_size, functions, n_functions, with_wasi, fuel,
                                      errmsg, [](std::shared_ptr<const CompiledPlugin> c) {
                                        return new ExtismCompiledPlugin{std::move(c)};
                                      });
}

bool set_logging(FILE* file, bool owns, bool buffered, const char* level) {
  Logging& log = logging();
  std::lock_guard lock(log.mutex);
  if (log.owns_file && log.file) std::fclose(log.file);
  log.file = file;
  log.owns_file = owns;
  log.buffered = buffered;
  log.level = parse_level(level);
  return true;
}

}  // namespace

extern "C" {

const uint8_t* extism_plugin_id(ExtismPlugin* plugin) { return plugin ? plugin->id : nullptr; }

void* extism_current_plugin_host_context(ExtismCurrentPlugin* plugin) {
  return plugin ? plugin->current->host_context() : nullptr;
}

uint8_t* extism_current_plugin_memory(ExtismCurrentPlugin* plugin) {
  return plugin ? plugin->current->region_base() : nullptr;
}

ExtismMemoryHandle extism_current_plugin_memory_alloc(ExtismCurrentPlugin* plugin, ExtismSize n) {
  if (!plugin) return 0;
  try {
    return plugin->current->alloc(n);
  } catch (...) {
    return 0;
  }
}

ExtismSize extism_current_plugin_memory_length(ExtismCurrentPlugin* plugin, ExtismMemoryHandle n) {
  return plugin ? plugin->current->length(n) : 0;
}

void extism_current_plugin_memory_free(ExtismCurrentPlugin* plugin, ExtismMemoryHandle ptr) {
  if (plugin) plugin->current->free(ptr);
}

ExtismFunction* extism_function_new(const char* name, const ExtismValType* inputs,
                                    ExtismSize n_inputs, const ExtismValType* outputs,
                                    ExtismSize n_outputs, ExtismFunctionType func, void* user_data,
                                    void (*free_user_data)(void*)) {
  if (!name || !func) return nullptr;
  try {
    auto f = std::make_unique<ExtismFunction>();
    f->function.name = name;
    if (!warden::is_valid_utf8(f->function.name)) return nullptr;
    for (ExtismSize i = 0; inputs && i < n_inputs; ++i) {
      auto t = wasm_type(inputs[i]);
      if (!t) return nullptr;
      f->function.type.params.push_back(*t);
    }
    for (ExtismSize i = 0; outputs && i < n_outputs; ++i) {
      auto t = wasm_type(outputs[i]);
      if (!t) return nullptr;
      f->function.type.results.push_back(*t);
    }
    // Freed once, when the function and every plugin holding a copy are gone.
    f->function.user_data = std::shared_ptr<void>(user_data, [free_user_data](void* data) {
      if (free_user_data) free_user_data(data);
    });
    f->function.callback = [func, results = f->function.type.results](
                               CurrentPlugin& current, std::span<const warden::Value> args,
                               std::span<warden::Value> out) -> warden::HostResult {
      // Up to 16 values each on the stack (host functions rarely take more): no allocation.
      ExtismVal in_small[16], out_small[16];
      std::vector<ExtismVal> in_heap, out_heap;
      ExtismVal* in_vals = in_small;
      ExtismVal* out_vals = out_small;
      if (args.size() > 16) {
        in_heap.resize(args.size());
        in_vals = in_heap.data();
      }
      if (results.size() > 16) {
        out_heap.resize(results.size());
        out_vals = out_heap.data();
      }
      for (size_t i = 0; i < args.size(); ++i) in_vals[i] = to_c(args[i]);
      for (size_t i = 0; i < results.size(); ++i)
        out_vals[i] = to_c(warden::default_value(results[i]));
      ExtismCurrentPlugin c{&current};
      func(&c, args.empty() ? nullptr : in_vals, args.size(), results.empty() ? nullptr : out_vals,
           results.size(), current.user_data());
      for (size_t i = 0; i < results.size() && i < out.size(); ++i)
        out[i] = from_c(out_vals[i], results[i]);
      return {};
    };
    return f.release();
  } catch (...) {
    return nullptr;
  }
}

void extism_function_free(ExtismFunction* f) { delete f; }

void extism_function_set_namespace(ExtismFunction* ptr, const char* namespace_) {
  if (!ptr || !namespace_) return;
  try {
    ptr->function.module = namespace_;
  } catch (...) {
  }
}

ExtismCompiledPlugin* extism_compiled_plugin_new(const uint8_t* wasm, ExtismSize wasm_size,
                                                 const ExtismFunction** functions,
                                                 ExtismSize n_functions, bool with_wasi,
                                                 char** errmsg) {
  return new_compiled(wasm, wasm_size, functions, n_functions, with_wasi, std::nullopt, errmsg);
}

ExtismCompiledPlugin* extism_compiled_plugin_new_with_fuel_limit(
    const uint8_t* wasm, ExtismSize wasm_size, const ExtismFunction** functions,
    ExtismSize n_functions, bool with_wasi, uint64_t fuel_limit, char** errmsg) {
  return new_compiled(wasm, wasm_size, functions, n_functions, with_wasi, fuel_limit, errmsg);
}

void extism_compiled_plugin_free(ExtismCompiledPlugin* plugin) { delete plugin; }

ExtismPlugin* extism_plugin_new(const uint8_t* wasm, ExtismSize wasm_size,
                                const ExtismFunction** functions, ExtismSize n_functions,
                                bool with_wasi, char** errmsg) {
  return new_plugin(wasm, wasm_size, functions, n_functions, with_wasi, std::nullopt, errmsg);
}

ExtismPlugin* extism_plugin_new_from_compiled(const ExtismCompiledPlugin* compiled, char** errmsg) {
  if (!compiled) {
    report(errmsg, "", PluginError{ErrorKind::HostError, "no compiled plugin (NULL)", -1});
    return nullptr;
  }
  try {
    auto plugin = compiled->compiled->instantiate();
    if (!plugin) {
      report(errmsg, "Unable to create Extism plugin: ", plugin.error());
      return nullptr;
    }
    return wrap(std::move(*plugin));
  } catch (...) {
    report(errmsg, "", PluginError{ErrorKind::Oom, "out of host memory", -1});
    return nullptr;
  }
}

ExtismPlugin* extism_plugin_new_with_fuel_limit(const uint8_t* wasm, ExtismSize wasm_size,
                                                const ExtismFunction** functions,
                                                ExtismSize n_functions, bool with_wasi,
                                                uint64_t fuel_limit, char** errmsg) {
  return new_plugin(wasm, wasm_size, functions, n_functions, with_wasi, fuel_limit, errmsg);
}

void extism_plugin_allow_http_response_headers(ExtismPlugin* plugin) {
  if (!plugin) return;
  std::lock_guard lock(plugin->mutex);
  plugin->plugin->allow_http_response_headers();
}

void extism_plugin_new_error_free(char* err) { std::free(err); }

void extism_plugin_free(ExtismPlugin* plugin) { delete plugin; }

const ExtismCancelHandle* extism_plugin_cancel_handle(const ExtismPlugin* plugin) {
  return plugin ? &plugin->cancel : nullptr;
}

bool extism_plugin_cancel(const ExtismCancelHandle* handle) {
  if (!handle) return false;
  handle->handle.cancel();
  return true;
}

bool extism_plugin_config(ExtismPlugin* plugin, const uint8_t* json, ExtismSize json_size) {
  if (!plugin || (!json && json_size)) return false;
  try {
    std::map<std::string, std::optional<std::string>> changes;
    const auto doc = nlohmann::json::parse(json, json + json_size);
    if (!doc.is_object()) return false;
    for (const auto& [key, value] : doc.items()) {
      if (value.is_null()) {
        changes[key] = std::nullopt;
      } else if (value.is_string()) {
        changes[key] = value.get<std::string>();
      } else {
        return false;
      }
    }
    std::lock_guard lock(plugin->mutex);
    plugin->plugin->merge_config(changes);
    plugin->error.reset();
    return true;
  } catch (...) {
    return false;
  }
}

bool extism_plugin_function_exists(ExtismPlugin* plugin, const char* func_name) {
  if (!plugin || !func_name) return false;
  std::lock_guard lock(plugin->mutex);
  return plugin->plugin->function_exists(func_name);
}

int32_t extism_plugin_call_with_host_context(ExtismPlugin* plugin, const char* func_name,
                                             const uint8_t* data, ExtismSize data_len,
                                             void* host_context) {
  if (!plugin) return -1;
  std::lock_guard lock(plugin->mutex);
  plugin->output = {};
  try {
    plugin->error.reset();
    if (!func_name) {
      plugin->error = "no function name (NULL)";
      plugin->error_kind = ErrorKind::FunctionNotFound;
      return -1;
    }
    std::span<const uint8_t> input(data, data ? data_len : 0);
    CallOptions options;
    options.host_context = host_context;
    auto out = plugin->plugin->call(func_name, input, options);
    if (!out) {
      plugin->error = std::move(out.error().message);
      plugin->error_kind = out.error().kind;
      return out.error().rc;
    }
    plugin->output = *out;
    return EXTISM_SUCCESS;
  } catch (...) {
    plugin->error = "oom";
    plugin->error_kind = ErrorKind::Oom;
    return -1;
  }
}

int32_t extism_plugin_call(ExtismPlugin* plugin, const char* func_name, const uint8_t* data,
                           ExtismSize data_len) {
  return extism_plugin_call_with_host_context(plugin, func_name, data, data_len, nullptr);
}

const char* extism_plugin_error(ExtismPlugin* plugin) {
  if (!plugin) return nullptr;
  std::lock_guard lock(plugin->mutex);
  return plugin->error ? plugin->error->c_str() : nullptr;
}

const char* extism_error(ExtismPlugin* plugin) { return extism_plugin_error(plugin); }

ExtismSize extism_plugin_output_length(ExtismPlugin* plugin) {
  if (!plugin) return 0;
  std::lock_guard lock(plugin->mutex);
  return plugin->output.size();
}

const uint8_t* extism_plugin_output_data(ExtismPlugin* plugin) {
  if (!plugin) return nullptr;
  std::lock_guard lock(plugin->mutex);
  return reinterpret_cast<const uint8_t*>(plugin->output.data());
}

bool extism_log_file(const char* filename, const char* log_level) {
  try {
    const std::string_view name = filename ? filename : "stderr";
    if (name == "stderr" || name == "-") return set_logging(stderr, false, false, log_level);
    if (name == "stdout") return set_logging(stdout, false, false, log_level);
    FILE* file = std::fopen(filename, "a");
    if (!file) return false;
    return set_logging(file, true, false, log_level);
  } catch (...) {
    return false;
  }
}

bool extism_log_custom(const char* log_level) {
  return set_logging(nullptr, false, true, log_level);
}

void extism_log_drain(ExtismLogDrainFunctionType handler) {
  if (!handler) return;
  std::deque<std::string> lines;
  {
    Logging& log = logging();
    std::lock_guard lock(log.mutex);
    lines.swap(log.lines);
  }
  // Outside the lock: the handler may log, or drain again.
  for (const std::string& line : lines) handler(line.c_str(), line.size());
}

bool extism_plugin_reset(ExtismPlugin* plugin) {
  if (!plugin) return false;
  std::lock_guard lock(plugin->mutex);
  plugin->output = {};
  auto ok = plugin->plugin->reset();
  if (!ok) {
    plugin->error = std::move(ok.error().message);
    plugin->error_kind = ok.error().kind;
    return false;
  }
  plugin->error.reset();
  return true;
}

const char* extism_version(void) { return WARDEN_VERSION; }

WardenErrorKind warden_plugin_error_kind(ExtismPlugin* plugin) {
  if (!plugin) return WARDEN_HOST_ERROR;
  std::lock_guard lock(plugin->mutex);
  return plugin->error ? c_kind(plugin->error_kind) : WARDEN_OK;
}

WardenErrorKind warden_create_error_kind(void) { return last_create_error; }

const char* warden_error_kind_name(WardenErrorKind kind) {
  static constexpr const char* kNames[] = {"ok",
                                           "timeout",
                                           "cancelled",
                                           "out_of_fuel",
                                           "oom",
                                           "trap",
                                           "plugin_error",
                                           "exit_code",
                                           "function_not_found",
                                           "denied",
                                           "invalid_module",
                                           "invalid_manifest",
                                           "host_error"};
  const auto i = static_cast<size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

uint64_t warden_plugin_fuel_used(ExtismPlugin* plugin) {
  if (!plugin) return 0;
  std::lock_guard lock(plugin->mutex);
  return plugin->plugin->fuel_used();
}

}  // extern "C"
