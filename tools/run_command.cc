// warden run: instantiate a module with minimal WASI and run `_start`, or call one export.
#include <fmt/core.h>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "hostabi/wasi/wasi.h"
#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "tools/command_line.h"
#include "hostabi/wasi/wasi_mount.h"
#include "vm/store.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"(usage: warden run [OPTIONS] MODULE [ARGS...]
       warden run [OPTIONS] --invoke NAME MODULE [ARGS...]

Runs a WebAssembly module in the interpreter. Without --invoke it calls the WASI command
entry point `_start` with ARGS as the program's arguments (argv[0] is MODULE) and exits
with the program's exit code. With --invoke it calls export NAME with ARGS parsed as its
parameter types (integers in decimal or 0x hex, floats in decimal, "nan", "inf"; a v128 as
SHAPE:LANE,LANE,... with SHAPE i8x16, i16x8, i32x4, i64x2, f32x4 or f64x2 and lane 0 first,
or as 0x and 32 hex digits, lane 0 in the lowest bits) and prints each result on its own line
(a v128 as its four 32-bit lanes in hex, lane 0 first). Options come before MODULE (everything
after it is the program's); `--` ends them.

WASI (wasi_snapshot_preview1, and the older wasi_unstable mapped onto it) is deny-by-default:
args, environ (empty unless --env is given), clocks, random_get, stdio (the program's stdin is
this process's), poll_oneoff, proc_exit and sched_yield; files only beneath the directories
given with --dir (the rules of plugin mounts: no way out, no host pseudo file systems).
Sockets return ENOSYS (52). No network.

options (the names `warden call` uses for the same limits; the older spellings still work):
  --fuel N               meter execution: stop with "out of fuel" after about N instructions
  --timeout MS           stop the run after MS milliseconds of wall-clock time
                         (also --timeout-ms)
  --memory-max PAGES     refuse to grow any linear memory past PAGES pages of 64 KiB
                         (also --max-memory-pages)
  --max-call-depth N     Wasm call frames before "call stack exhausted" (default 10000)
  --dir [ro:]HOST[:GUEST]
                         preopen directory HOST as GUEST (default: the same path); "ro:"
                         mounts it read-only; repeatable
  --env NAME=VALUE       add an environment variable for the guest (repeatable)
  --invoke NAME          call export NAME instead of `_start`
  --stats                after the run, print on stderr: outcome, wall time, fuel used,
                         memory pages
  -h, --help             show this help

exit status (as `warden call`): the program's own exit code (proc_exit, or 0 when `_start`
returns); 1 when the module cannot be read, loaded or linked, or when it traps, runs out of
fuel or is stopped by --timeout (the reason and a backtrace, innermost first with names from
the name section, on stderr); 2 for usage errors.
)";

bool parse_arg(const std::string& text, ValType type, Value& out);

// "i32x4:1,2,3,4" (lanes parsed as the lane type, integers also negative or 0x hex), or
// "0x" and exactly 32 hex digits.
bool parse_v128(const std::string& text, Value& out) {
  uint8_t bytes[16] = {};
  if (text.starts_with("0x") && text.size() == 34) {
    for (int i = 0; i < 16; ++i) {  // the last two digits are byte 0
      const std::string pair = text.substr(2 + 2 * (15 - i), 2);
      char* end = nullptr;
      bytes[i] = static_cast<uint8_t>(std::strtoul(pair.c_str(), &end, 16));
      if (*end || !std::isxdigit(static_cast<unsigned char>(pair[0]))) return false;
    }
  } else {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return false;
    const std::string shape = text.substr(0, colon);
    struct Shape {
      const char* name;
      int lanes;
      ValType lane_type;
      int bytes;
    };
    static constexpr Shape kShapes[] = {
        {"i8x16", 16, ValType::I32, 1}, {"i16x8", 8, ValType::I32, 2},
        {"i32x4", 4, ValType::I32, 4},  {"i64x2", 2, ValType::I64, 8},
        {"f32x4", 4, ValType::F32, 4},  {"f64x2", 2, ValType::F64, 8}};
    const Shape* found = nullptr;
    for (const Shape& s : kShapes) {
      if (shape == s.name) found = &s;
    }
    if (!found) return false;
    std::vector<std::string> lanes;
    size_t start = colon + 1;
    while (true) {
      const size_t comma = text.find(',', start);
      lanes.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (static_cast<int>(lanes.size()) != found->lanes) return false;
    for (int i = 0; i < found->lanes; ++i) {
      Value lane;
      std::string t = lanes[i];
      // Narrow integer lanes: a value of the lane's width, signed or not.
      if (found->bytes < 4 && !t.empty()) {
        const bool negative = t.starts_with("-");
        errno = 0;
        char* end = nullptr;
        const unsigned long long m = std::strtoull(t.c_str() + negative, &end, 0);
        const unsigned long long limit =
            negative ? (1ull << (found->bytes * 8 - 1)) : (1ull << (found->bytes * 8)) - 1;
        if (t.size() == size_t(negative) || *end || errno || m > limit) return false;
        lane = Value::i64(static_cast<int64_t>(negative ? 0 - m : m));
      } else if (!parse_arg(t, found->lane_type, lane)) {
        return false;
      }
      std::memcpy(bytes + i * found->bytes, &lane.bits, found->bytes);
    }
  }
  uint64_t half[2];
  std::memcpy(half, bytes, 16);
  out = Value::v128(half[0], half[1]);
  return true;
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
    case ValType::V128: return parse_v128(text, out);
    default: return false;
  }
}

std::string format_result(const Value& v) {
  switch (v.type) {
    case ValType::I32: return fmt::format("{}", v.as_i32());
    case ValType::I64: return fmt::format("{}", v.as_i64());
    case ValType::F32: return fmt::format("{}", v.as_f32());
    case ValType::F64: return fmt::format("{}", v.as_f64());
    case ValType::V128: return to_string(v).substr(5);  // "v128:" off: the four lanes
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
  return kExitFailure;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  EngineConfig config;
  std::optional<uint64_t> fuel, timeout_ms, memory_max, call_depth;
  std::string invoke;
  bool stats = false;
  std::vector<std::string> env, dirs;
  auto wasi = std::make_shared<wasi::WasiConfig>();
  CommandLine cl("run", kHelp);
  CLI::App& app = cl.app;
  app.add_option("--fuel", fuel);
  app.add_option("--timeout,--timeout-ms", timeout_ms);
  app.add_option("--memory-max,--max-memory-pages", memory_max)
      ->check(CLI::Range(uint64_t{0}, uint64_t{65536}));
  app.add_option("--max-call-depth", call_depth)
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  cl.add_list("--dir", dirs);
  cl.add_list("--env", env);
  app.add_option("--invoke", invoke);
  app.add_flag("--stats", stats);
  auto parsed = cl.parse(args, /*stop_at_first_positional=*/true);
  if (parsed.exit_status) return *parsed.exit_status;
  if (parsed.positionals.empty()) return usage_error("run", "no MODULE given");
  if (memory_max) config.max_memory_pages = static_cast<uint32_t>(*memory_max);
  if (call_depth) config.max_call_depth = static_cast<uint32_t>(*call_depth);
  for (const std::string& e : env) {
    if (e.find('=') == std::string::npos)
      return usage_error("run", "--env wants NAME=VALUE, got '" + escape_untrusted(e) + "'");
    wasi->env.push_back(e);
  }
  for (const std::string& d : dirs) {
    auto mount = wasi::parse_mount_spec(d);
    if (!mount)
      return usage_error("run", "--dir wants [ro:]HOST[:GUEST], got '" + escape_untrusted(d) + "'");
    if (auto refusal = wasi::check_mount(*mount)) {
      fmt::print(stderr, "warden: --dir {}: {}\n", escape_untrusted(d), refusal->message);
      return kExitFailure;
    }
    wasi->mounts.push_back(std::move(*mount));
  }
  wasi->stdin_fd = STDIN_FILENO;
  const std::string path = parsed.positionals[0];
  const std::vector<std::string> rest(parsed.positionals.begin() + 1, parsed.positionals.end());

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
  wasi::define_wasi(linker, wasi, fuel.has_value(), /*unstable=*/true);
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
