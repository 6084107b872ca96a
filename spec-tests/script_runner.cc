#include "spec-tests/script_runner.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "validator/load_module.h"
#include "vm/store.h"

namespace warden::spec {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<ValType> parse_type(const std::string& t) {
  if (t == "i32") return ValType::I32;
  if (t == "i64") return ValType::I64;
  if (t == "f32") return ValType::F32;
  if (t == "f64") return ValType::F64;
  if (t == "funcref") return ValType::FuncRef;
  if (t == "externref") return ValType::ExternRef;
  if (t == "v128") return ValType::V128;
  return std::nullopt;
}

// A v128's lanes: "lane_type" i8 .. f64 and one unsigned decimal (or NaN pattern) per lane.
int lane_bits(const std::string& lane_type) {
  if (lane_type == "i8") return 8;
  if (lane_type == "i16") return 16;
  if (lane_type == "i32" || lane_type == "f32") return 32;
  if (lane_type == "i64" || lane_type == "f64") return 64;
  return 0;
}

// An argument: numbers are the unsigned decimal of their bits; `ref.extern N` is the host word
// N + 1 (so that extern 0 is not null); a v128 is its lanes, lane 0 first.
std::optional<Value> parse_value(const json& j) {
  const auto type = parse_type(j.value("type", ""));
  if (!type || !j.contains("value")) return std::nullopt;
  if (*type == ValType::V128) {
    const int bits = lane_bits(j.value("lane_type", ""));
    const json& lanes = j["value"];
    if (bits == 0 || !lanes.is_array() || lanes.size() != size_t(128 / bits)) return std::nullopt;
    uint8_t bytes[16] = {};
    for (size_t i = 0; i < lanes.size(); ++i) {
      const uint64_t lane = std::stoull(lanes[i].get<std::string>());
      std::memcpy(bytes + i * (bits / 8), &lane, bits / 8);  // little endian
    }
    uint64_t half[2];
    std::memcpy(half, bytes, 16);
    return Value::v128(half[0], half[1]);
  }
  const std::string v = j["value"].get<std::string>();
  if (is_reftype(*type)) {
    if (v == "null") return Value::null(*type);
    return Value{*type, std::stoull(v) + 1};
  }
  return Value{*type, std::stoull(v)};
}

bool is_nan_bits(ValType t, uint64_t bits) {
  return t == ValType::F32 ? std::isnan(std::bit_cast<float>(static_cast<uint32_t>(bits)))
                           : std::isnan(std::bit_cast<double>(bits));
}

// Does a float's bits satisfy "nan:canonical" / "nan:arithmetic"?
bool nan_matches(const std::string& pattern, ValType type, uint64_t bits) {
  const uint64_t quiet = type == ValType::F32 ? 0x7FC00000u : 0x7FF8000000000000u;
  const uint64_t sign = type == ValType::F32 ? 0x80000000u : 0x8000000000000000u;
  if (!is_nan_bits(type, bits)) return false;
  if (pattern == "nan:canonical") return (bits & ~sign) == quiet;
  return (bits & quiet) == quiet;
}

// A v128 expectation, lane by lane (a float lane may be a NaN pattern).
bool v128_matches(const json& j, const Value& actual) {
  const std::string lane_type = j.value("lane_type", "");
  const int bits = lane_bits(lane_type);
  const json& lanes = j["value"];
  if (bits == 0 || !lanes.is_array() || lanes.size() != size_t(128 / bits)) return false;
  uint8_t bytes[16];
  std::memcpy(bytes, &actual.bits, 8);
  std::memcpy(bytes + 8, &actual.hi, 8);
  for (size_t i = 0; i < lanes.size(); ++i) {
    uint64_t lane = 0;
    std::memcpy(&lane, bytes + i * (bits / 8), bits / 8);
    const std::string v = lanes[i].get<std::string>();
    if (v.starts_with("nan:")) {
      if (!nan_matches(v, bits == 32 ? ValType::F32 : ValType::F64, lane)) return false;
    } else if (std::stoull(v) != lane) {
      return false;
    }
  }
  return true;
}

// Does `actual` satisfy the expectation `j` (bit-exact, or nan:canonical / nan:arithmetic)?
bool matches(const json& j, const Value& actual) {
  const auto type = parse_type(j.value("type", ""));
  if (!type || *type != actual.type) return false;
  if (!j.contains("value")) return !actual.is_null();  // (ref.func): any non-null function
  if (*type == ValType::V128) return v128_matches(j, actual);
  const std::string v = j["value"].get<std::string>();
  if (v == "nan:canonical" || v == "nan:arithmetic") return nan_matches(v, *type, actual.bits);
  const auto expected = parse_value(j);
  return expected && expected->bits == actual.bits;
}

std::string describe(const Value& v) {
  if (v.type == ValType::ExternRef && !v.is_null())
    return "externref:" + std::to_string(v.bits - 1);
  return to_string(v);
}

bool message_matches(const std::string& expected, const std::string& actual) {
  return actual.starts_with(expected) || expected.starts_with(actual);
}

class ScriptRunner {
 public:
  ScriptRunner(fs::path dir, const RunOptions& options)
      : dir_(std::move(dir)), options_(options), engine_(make_config(options)), store_(engine_) {
    define_spectest();
  }

  void run(const json& command);
  FileResult& result() { return result_; }

 private:
  static EngineConfig make_config(const RunOptions& options) {
    EngineConfig c;
    c.fuel = options.fuel;
    return c;
  }
  void define_spectest();

  void module(const json& command);
  void register_module(const json& command);
  void assert_rejected(const json& command);
  void action_command(const json& command);
  void assert_return(const json& command);
  void assert_trap(const json& command, bool exhaustion);
  void assert_link_failure(const json& command);
  void skip(const std::string& kind, const char* why);

  bool load(const json& command, Result<Module, LoadError>* out, std::string* io_error);
  bool read_file(const json& command, std::vector<uint8_t>& bytes, std::string* io_error);
  Result<std::vector<Value>, ExecError> perform(const json& action, std::string* problem);

  void pass() { ++result_.passed; }
  void fail(int line, std::string text) {
    ++result_.failed;
    result_.failures.push_back({line, std::move(text)});
  }

  fs::path dir_;
  RunOptions options_;
  Engine engine_;
  Store store_;
  Linker linker_;
  Instance* current_ = nullptr;
  std::map<std::string, Instance*> named_;
  FileResult result_;
};

void ScriptRunner::define_spectest() {
  auto nothing = [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult {
    return {};
  };
  using enum ValType;
  const std::pair<const char*, std::vector<ValType>> prints[] = {{"print", {}},
                                                                 {"print_i32", {I32}},
                                                                 {"print_i64", {I64}},
                                                                 {"print_f32", {F32}},
                                                                 {"print_f64", {F64}},
                                                                 {"print_i32_f32", {I32, F32}},
                                                                 {"print_f64_f64", {F64, F64}}};
  for (const auto& [name, params] : prints) {
    linker_.define_function("spectest", name, FuncType{params, {}}, nothing);
  }
  auto global = [&](const char* name, Value v) {
    Extern x;
    x.kind = ExternKind::Global;
    x.global = store_.create_global(GlobalType{v.type, false}, v);
    linker_.define("spectest", name, x);
  };
  global("global_i32", Value::i32(666));
  global("global_i64", Value::i64(666));
  global("global_f32", Value::f32(666.6f));
  global("global_f64", Value::f64(666.6));
  Extern table;
  table.kind = ExternKind::Table;
  table.table = store_.create_table(TableType{ValType::FuncRef, Limits{10, 20}});
  linker_.define("spectest", "table", table);
  Extern memory;
  memory.kind = ExternKind::Memory;
  memory.memory = store_.create_memory(MemoryType{Limits{1, 2}});
  linker_.define("spectest", "memory", memory);
}

void ScriptRunner::run(const json& command) {
  const std::string type = command.value("type", "");
  if (type == "assert_malformed" || type == "assert_invalid") {
    if (command.value("module_type", "binary") == "text") {
      return skip(type, "text module: no text parser");
    }
    return assert_rejected(command);
  }
  if (type == "module") return module(command);
  if (type == "register") return register_module(command);
  if (type == "action") return action_command(command);
  if (type == "assert_return") return assert_return(command);
  if (type == "assert_trap") return assert_trap(command, false);
  if (type == "assert_exhaustion") return assert_trap(command, true);
  if (type == "assert_unlinkable" || type == "assert_uninstantiable") {
    return assert_link_failure(command);
  }
  fail(command.value("line", 0), "FAIL unknown command type \"" + type + "\"");
}

bool ScriptRunner::read_file(const json& command, std::vector<uint8_t>& bytes,
                             std::string* io_error) {
  const fs::path file = dir_ / command.value("filename", "");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *io_error = "cannot read " + file.string();
    return false;
  }
  bytes.assign((std::istreambuf_iterator<char>(in)), {});
  return true;
}

bool ScriptRunner::load(const json& command, Result<Module, LoadError>* out,
                        std::string* io_error) {
  std::vector<uint8_t> bytes;
  if (!read_file(command, bytes, io_error)) return false;
  *out = load_module(bytes);
  return true;
}

// `module`: decode, validate, compile and instantiate; it becomes the current module.
void ScriptRunner::module(const json& command) {
  const int line = command.value("line", 0);
  if (command.value("module_type", "binary") == "text") return skip("module", "text module");
  std::vector<uint8_t> bytes;
  std::string io_error;
  if (!read_file(command, bytes, &io_error)) return fail(line, "FAIL module: " + io_error);
  auto compiled = CompiledModule::compile(engine_, std::move(bytes));
  if (!compiled) return fail(line, "FAIL module: failed to load: " + compiled.error().to_string());
  store_.set_fuel(options_.fuel_budget);
  auto instance = store_.instantiate(*compiled, linker_);
  if (!instance) {
    current_ = nullptr;
    return fail(line, "FAIL module: instantiation failed: " + instance.error().message());
  }
  current_ = *instance;
  if (command.contains("name")) named_[command["name"].get<std::string>()] = current_;
  pass();
}

void ScriptRunner::register_module(const json& command) {
  const int line = command.value("line", 0);
  Instance* inst = current_;
  if (command.contains("name")) {
    auto it = named_.find(command["name"].get<std::string>());
    inst = it == named_.end() ? nullptr : it->second;
  }
  if (!inst) return fail(line, "FAIL register: no such module");
  linker_.define_instance(command.value("as", ""), *inst);
  pass();
}

// Runs an invoke or get action. `problem` is set when the action could not even be attempted.
Result<std::vector<Value>, ExecError> ScriptRunner::perform(const json& action,
                                                            std::string* problem) {
  ExecError usage;
  usage.kind = ExecError::Kind::Usage;
  Instance* inst = current_;
  if (action.contains("module")) {
    auto it = named_.find(action["module"].get<std::string>());
    inst = it == named_.end() ? nullptr : it->second;
  }
  if (!inst) {
    *problem = "no module to act on";
    return Failure{usage};
  }
  const std::string field = action.value("field", "");
  if (action.value("type", "") == "get") {
    const Extern* e = inst->find_export(field);
    if (!e || e->kind != ExternKind::Global) {
      *problem = "no exported global \"" + field + "\"";
      return Failure{usage};
    }
    return std::vector<Value>{e->global->value()};
  }
  std::vector<Value> args;
  for (const json& a : action.value("args", json::array())) {
    auto v = parse_value(a);
    if (!v) {
      *problem = "unsupported argument " + a.dump();
      return Failure{usage};
    }
    args.push_back(*v);
  }
  store_.set_fuel(options_.fuel_budget);
  auto r = store_.call(*inst, field, args);
  if (!r && r.error().kind == ExecError::Kind::Usage) *problem = r.error().message();
  return r;
}

void ScriptRunner::action_command(const json& command) {
  const int line = command.value("line", 0);
  std::string problem;
  auto r = perform(command["action"], &problem);
  if (!r) return fail(line, "FAIL action: " + (problem.empty() ? r.error().message() : problem));
  pass();
}

void ScriptRunner::assert_return(const json& command) {
  const int line = command.value("line", 0);
  std::string problem;
  auto r = perform(command["action"], &problem);
  if (!r) {
    return fail(line, "FAIL assert_return: " + (problem.empty() ? r.error().message() : problem));
  }
  if (command.contains("either")) {  // relaxed instructions: any one of the listed results
    for (const json& choice : command["either"]) {
      if (r->size() == 1 && matches(choice, (*r)[0])) return pass();
    }
    return fail(line, "FAIL assert_return: expected one of " + command["either"].dump() + ", got " +
                          (r->size() == 1 ? describe((*r)[0]) : "several results"));
  }
  const json& expected = command["expected"];
  if (expected.size() != r->size()) {
    return fail(line, "FAIL assert_return: expected " + std::to_string(expected.size()) +
                          " results, got " + std::to_string(r->size()));
  }
  for (size_t i = 0; i < r->size(); ++i) {
    if (!matches(expected[i], (*r)[i])) {
      return fail(line, "FAIL assert_return: result " + std::to_string(i) + ": expected " +
                            expected[i].dump() + ", got " + describe((*r)[i]));
    }
  }
  pass();
}

// assert_trap / assert_exhaustion: the action must trap with the spec's message.
void ScriptRunner::assert_trap(const json& command, bool exhaustion) {
  const int line = command.value("line", 0);
  const std::string kind = exhaustion ? "assert_exhaustion" : "assert_trap";
  const std::string text = command.value("text", "");
  std::string problem;
  auto r = perform(command["action"], &problem);
  if (r) return fail(line, "FAIL " + kind + ": returned instead of trapping \"" + text + "\"");
  if (!problem.empty()) return fail(line, "FAIL " + kind + ": " + problem);
  const ExecError& e = r.error();
  if (e.kind != ExecError::Kind::Trap) {
    return fail(line, "FAIL " + kind + ": expected trap \"" + text + "\", got " + e.message());
  }
  if (!message_matches(text, std::string(trap_message(e.trap)))) {
    return fail(line, "FAIL " + kind + ": expected \"" + text + "\", got \"" +
                          std::string(trap_message(e.trap)) + "\"");
  }
  pass();
}

// assert_unlinkable: instantiation fails on an import; assert_uninstantiable: it traps.
void ScriptRunner::assert_link_failure(const json& command) {
  const int line = command.value("line", 0);
  const std::string type = command.value("type", "");
  const std::string text = command.value("text", "");
  std::vector<uint8_t> bytes;
  std::string io_error;
  if (!read_file(command, bytes, &io_error)) return fail(line, "FAIL " + type + ": " + io_error);
  auto compiled = CompiledModule::compile(engine_, std::move(bytes));
  if (!compiled) {
    return fail(line, "FAIL " + type + ": failed to load: " + compiled.error().to_string());
  }
  store_.set_fuel(options_.fuel_budget);
  auto instance = store_.instantiate(*compiled, linker_);
  if (instance) return fail(line, "FAIL " + type + ": instantiated, expected \"" + text + "\"");
  const ExecError& e = instance.error();
  const bool want_link = type == "assert_unlinkable";
  const std::string actual =
      e.kind == ExecError::Kind::Trap ? std::string(trap_message(e.trap)) : e.detail;
  if ((e.kind == ExecError::Kind::Link) != want_link || !message_matches(text, actual)) {
    return fail(line, "FAIL " + type + ": expected \"" + text + "\", got \"" + e.message() + "\"");
  }
  pass();
}

// `assert_malformed` / `assert_invalid` with a binary module: it must be rejected. Whether our
// message starts with the spec's text is counted separately; it does not decide pass or fail.
void ScriptRunner::assert_rejected(const json& command) {
  const int line = command.value("line", 0);
  const std::string type = command.value("type", "");
  const std::string expected = command.value("text", "");
  Result<Module, LoadError> loaded = Failure{LoadError{}};
  std::string io_error;
  if (!load(command, &loaded, &io_error)) return fail(line, "FAIL " + type + ": " + io_error);
  if (loaded) return fail(line, "FAIL " + type + ": expected rejection \"" + expected + "\"");
  pass();
  ++result_.rejections;
  const std::string& message = loaded.error().message();
  if (message.starts_with(expected)) {
    ++result_.rejections_matching;
  } else {
    result_.mismatches.push_back({line, expected, message});
  }
}

void ScriptRunner::skip(const std::string& kind, const char* why) {
  ++result_.skipped;
  ++result_.skipped_by_kind[kind + " (" + why + ")"];
}

}  // namespace

FileResult run_script(const fs::path& json_file, const RunOptions& options) {
  ScriptRunner runner(json_file.parent_path(), options);
  std::ifstream in(json_file);
  json script = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (script.is_discarded() || !script.contains("commands")) {
    FileResult result;
    result.failed = 1;
    result.failures.push_back({0, "FAIL cannot parse " + json_file.string()});
    return result;
  }
  for (const json& command : script["commands"]) runner.run(command);
  return std::move(runner.result());
}

}  // namespace warden::spec
