// A host application on warden's Plugin API: it gives greeter.wasm (examples/plugins/greeter.c)
// the host function it imports, with user data of its own, limits, config, per-call context, and
// stops a runaway call from another thread. Build against the installed package:
//   cmake -S examples/plugin-host -B build-host -DCMAKE_PREFIX_PATH=<prefix>
//   cmake --build build-host && build-host/plugin-host greeter.wasm
#include <warden/plugin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

using namespace warden;
using namespace warden::extism;

// The host function's own state, shared by every plugin it is given to.
struct Decorator {
  std::string left = "[", right = "]";
  std::atomic<int> calls{0};
};

static void print_error(const char* what, const PluginError& e) {
  std::printf("%s: %s (rc %d): %s\n", what, std::string(error_kind_name(e.kind)).c_str(), e.rc,
              e.message.c_str());
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: plugin-host greeter.wasm\n");
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  const std::vector<uint8_t> wasm{std::istreambuf_iterator<char>(file), {}};
  if (!file || wasm.empty()) {
    std::fprintf(stderr, "plugin-host: cannot read %s\n", argv[1]);
    return 1;
  }

  auto decorator = std::make_shared<Decorator>();
  PluginOptions options;
  // extism:host/user::decorate(i64 handle) -> i64 handle: the input between the decorator's
  // brackets, and the caller's context (a suffix) when the call gave one.
  options.functions.push_back(PluginFunction{
      .name = "decorate",
      .type = FuncType{{ValType::I64}, {ValType::I64}},
      .callback = [](CurrentPlugin& p, std::span<const Value> args,
                     std::span<Value> results) -> HostResult {
        auto* d = static_cast<Decorator*>(p.user_data());
        auto* suffix = static_cast<const std::string*>(p.host_context());
        d->calls.fetch_add(1);
        const std::string text =
            d->left + std::string(p.text(args[0].as_i64())) + (suffix ? *suffix : "") + d->right;
        results[0] = Value::i64(static_cast<int64_t>(p.alloc_copy(text)));
        return HostResult{};
      },
      .user_data = decorator,
      .capability = "greeting",
      .host_class = HostClass::ReadSafe});
  options.quota.fuel_per_call = 50'000'000;  // a runaway loop ends, deterministically
  options.log_level = LogLevel::Info;
  options.log_sink = [](LogLevel level, std::string_view message) {
    std::printf("  log %s: %.*s\n", std::string(log_level_name(level)).c_str(),
                static_cast<int>(message.size()), message.data());
  };

  // Compile once; every plugin made from it shares the compiled code.
  auto compiled = CompiledPlugin::create(wasm, options);
  if (!compiled) {
    print_error("compile", compiled.error());
    return 1;
  }
  auto created = (*compiled)->instantiate();
  if (!created) {
    print_error("instantiate", created.error());
    return 1;
  }
  Plugin& plugin = **created;

  auto greet = [&](const char* label, std::string_view input, const CallOptions& call = {}) {
    auto out = plugin.call("greet", input, call);
    if (out)
      std::printf("%s: %.*s\n", label, static_cast<int>(out->size()), out->data());
    else
      print_error(label, out.error());
  };
  greet("greet", "world");
  plugin.update_config({{"greeting", "Bonjour"}});
  greet("with config greeting=Bonjour", "monde");
  std::string suffix = " (from the host)";  // the call reaches it as CurrentPlugin::host_context
  greet("with a host context", "world", CallOptions{.host_context = &suffix});

  // Vars from the host side: the plugin counts on from 41.
  if (auto set = plugin.set_var("count", "41"); !set) print_error("set_var", set.error());
  auto count = plugin.call("count", "");
  if (count) std::printf("count after set_var(41): %.*s\n", int(count->size()), count->data());

  // A second plugin from the same compiled module: its own config and vars.
  auto second = (*compiled)->instantiate();
  if (second) {
    auto out = (*second)->call("greet", "again");
    if (out) std::printf("second plugin: %.*s\n", int(out->size()), out->data());
  }

  // Limits: fuel ends a runaway call; so does a cancel from another thread.
  auto spun = plugin.call("spin", "");
  if (!spun) print_error("spin under fuel", spun.error());
  PluginOptions unmetered = options;
  unmetered.quota.fuel_per_call.reset();
  auto runaway = Plugin::create(wasm, unmetered);
  if (runaway) {
    CancelHandle cancel = (*runaway)->cancel_handle();
    std::thread canceller([cancel] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      cancel.cancel();
    });
    auto cancelled = (*runaway)->call("spin", "");
    canceller.join();
    if (!cancelled) print_error("spin cancelled from another thread", cancelled.error());
  }
  auto failed = plugin.call("fail", "bad input");
  if (!failed) print_error("fail", failed.error());
  auto trapped = plugin.call("trap", "");
  if (!trapped) print_error("trap", trapped.error());

  std::printf("decorate calls: %d\n", decorator->calls.load());
  return 0;
}
