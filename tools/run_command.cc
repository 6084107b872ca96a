// warden run: instantiate a module with minimal WASI and run `_start`, or call one export.
#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "hostabi/wasi/wasi.h"
#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "vm/store.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"(usage: warden run [OPTIONS] MODULE [ARGS...]
       warden run [OPTIONS] --invoke NAME MODULE [ARGS...]

Runs a WebAssembly module in the interpreter. Without --invoke it calls the WASI command
entry point `_start` with ARGS as the program's arguments (argv[0] is MODULE) and exits
with the program's exit code. With --invoke it calls export NAME with ARGS parsed as its
parameter types (integers in decimal or 0x hex, floats in decimal, "nan", "inf") and prints
each result on its own line.

WASI (wasi_snapshot_preview1) is deny-by-default: args, environ (empty unless --env is
given), clocks, random_get, stdio, poll_oneoff, proc_exit and sched_yield. No directory is
preopened, so every file operation fails; sockets return ENOSYS (52). No network.
(`warden call --allow-path` gives Extism plugins directories.)

options:
  --fuel N               meter execution: stop with "out of fuel" after about N instructions
  --timeout-ms N         stop the run after N milliseconds of wall-clock time
  --max-memory-pages N   refuse to grow any linear memory past N pages of 64 KiB
  --max-call-depth N     Wasm call frames before "call stack exhausted" (default 10000)
  --env NAME=VALUE       add an environment variable for the guest (repeatable)
  --invoke NAME          call export NAME instead of `_start`
  --stats                after the run, print on stderr: outcome, wall time, fuel used,
                         memory pages
  -h, --help             show this help

exit status: the program's own exit code (proc_exit, or 0 when `_start` returns); 1 when
the module cannot be read, loaded or linked; 2 for usage errors; 134 when the program traps;
135 when it runs out of fuel; 136 when it is stopped by --timeout-ms. Traps print the trap
and a backtrace (innermost first, with names from the name section) on stderr.
)";

constexpr int kExitTrap = 134;
constexpr int kExitOutOfFuel = 135;
constexpr int kExitTimeout = 136;

bool parse_u64(const std::string& text, uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && !text.empty();
}

bool parse_arg(const std::string& text, ValType type, Value& out) {
  errno = 0;
  char* end = nullptr;
  switch (type) {
    case ValType::I32:
    case ValType::I64: {
      const bool negative = text.starts_with("-");
      const unsigned long long magnitude = std::strtoull(text.c_str() + negative, &end, 0);
      if (text.size() == size_t(negative) || *end || errno) return false;
      const uint64_t bits = negative ? uint64_t(0) - magnitude : magnitude;
      if (type == ValType::I32) {
        if (negative ? magnitude > 0x80000000ull : magnitude > 0xFFFFFFFFull) return false;
        out = Value{ValType::I32, bits & 0xFFFFFFFFu};
      } else {
        out = Value{ValType::I64, bits};
      }
      return true;
    }
    case ValType::F32:
      out = Value::f32(std::strtof(text.c_str(), &end));
      return !text.empty() && !*end;
    case ValType::F64:
      out = Value::f64(std::strtod(text.c_str(), &end));
      return !text.empty() && !*end;
    default: return false;
  }
}

std::string format_result(const Value& v) {
  switch (v.type) {
    case ValType::I32: return fmt::format("{}", v.as_i32());
    case ValType::I64: return fmt::format("{}", v.as_i64());
    case ValType::F32: return fmt::format("{}", v.as_f32());
    case ValType::F64: return fmt::format("{}", v.as_f64());
    default: return v.is_null() ? "null" : "ref";
  }
}

int report(const std::string& module, const ExecError& e) {
  if (e.kind == ExecError::Kind::Exit) return e.exit_code;
  fmt::print(stderr, "warden: {}: {}\n", module, e.message());
  for (const TrapFrame& f : e.backtrace) {
    fmt::print(stderr, "  at func[{}]{} (offset 0x{:x})\n", f.function_index,
               f.function_name.empty() ? "" : " " + f.function_name, f.code_offset);
  }
  switch (e.kind) {
    case ExecError::Kind::OutOfFuel: return kExitOutOfFuel;
    case ExecError::Kind::Interrupted: return kExitTimeout;
    case ExecError::Kind::Trap: return kExitTrap;
    default: return kExitFailure;
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  EngineConfig config;
  std::optional<uint64_t> fuel, timeout_ms;
  std::string invoke;
  bool stats = false;
  auto wasi = std::make_shared<wasi::WasiConfig>();
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      fmt::print("{}", kHelp);
      return kExitOk;
    }
    if (!arg.starts_with("-")) break;
    if (arg == "--stats") {
      stats = true;
      continue;
    }
    if (i + 1 >= args.size()) return usage_error("run", escape_untrusted(arg) + " needs a value");
    const std::string& value = args[++i];
    uint64_t n = 0;
    if (arg == "--invoke") {
      invoke = value;
    } else if (arg == "--env") {
      if (value.find('=') == std::string::npos) return usage_error("run", "--env wants NAME=VALUE");
      wasi->env.push_back(value);
    } else if (!parse_u64(value, n)) {
      return usage_error("run", escape_untrusted(arg) + " wants a non-negative integer, got '" +
                                    escape_untrusted(value) + "'");
    } else if (arg == "--fuel") {
      fuel = n;
    } else if (arg == "--timeout-ms") {
      timeout_ms = n;
    } else if (arg == "--max-memory-pages") {
      if (n > 65536) return usage_error("run", "--max-memory-pages is at most 65536");
      config.max_memory_pages = static_cast<uint32_t>(n);
    } else if (arg == "--max-call-depth") {
      if (n == 0 || n > 1'000'000) return usage_error("run", "--max-call-depth is 1..1000000");
      config.max_call_depth = static_cast<uint32_t>(n);
    } else {
      return usage_error("run", "unknown option " + escape_untrusted(arg));
    }
  }
  if (i >= args.size()) return usage_error("run", "no MODULE given");
  const std::string path = args[i++];
  const std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());

  std::vector<uint8_t> bytes;
  if (!read_file(path, bytes)) return kExitFailure;
  config.fuel = fuel.has_value();
  Engine engine(config);
  auto compiled = CompiledModule::compile(engine, std::move(bytes));
  if (!compiled) {
    fmt::print(stderr, "{}\n", format_load_error(path, compiled.error()));
    return kExitFailure;
  }
  wasi->args.push_back(path);
  if (invoke.empty()) wasi->args.insert(wasi->args.end(), rest.begin(), rest.end());
  Linker linker;
  wasi::define_wasi(linker, wasi, fuel.has_value());
  Store store(engine);
  if (fuel) store.set_fuel(*fuel);
  if (timeout_ms) store.set_deadline(std::chrono::milliseconds(*timeout_ms));

  auto instance = store.instantiate(*compiled, linker);
  if (!instance) return report(path, instance.error());
  const std::string entry = invoke.empty() ? "_start" : invoke;
  Function* function = (*instance)->exported_function(entry);
  if (!function) {
    fmt::print(stderr, "warden: {}: no exported function \"{}\"\n", path, entry);
    return kExitFailure;
  }
  std::vector<Value> values;
  if (!invoke.empty()) {
    const FuncType& type = *function->type;
    if (rest.size() != type.params.size()) {
      return usage_error("run", fmt::format("{} takes {} arguments {}, got {}", entry,
                                            type.params.size(), to_string(type), rest.size()));
    }
    for (size_t k = 0; k < rest.size(); ++k) {
      Value v;
      if (!parse_arg(rest[k], type.params[k], v)) {
        return usage_error("run", fmt::format("argument {} '{}' is not a valid {}", k + 1, rest[k],
                                              valtype_name(type.params[k])));
      }
      values.push_back(v);
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = store.call(*function, values);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  std::fflush(stdout);
  if (stats) {
    const Memory* memory = (*instance)->memory;
    fmt::print(stderr, "warden: {}: {} in {:.3f} ms", path,
               result ? std::string("returned") : result.error().message(),
               std::chrono::duration<double, std::milli>(elapsed).count());
    if (fuel) fmt::print(stderr, ", fuel used {} of {}", *fuel - store.fuel(), *fuel);
    if (memory) fmt::print(stderr, ", memory {} pages", memory->pages());
    fmt::print(stderr, "\n");
  }
  if (!result) return report(path, result.error());
  for (const Value& v : *result) fmt::print("{}\n", format_result(v));
  return kExitOk;
}

}  // namespace warden::cli
