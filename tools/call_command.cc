// warden call: run an Extism plugin function, with the flags of `extism call`.
#include <fmt/core.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "hostabi/plugin.h"
#include "policy/gate.h"
#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "tools/gate_args.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"help(usage: warden call [OPTIONS] WASM|MANIFEST FUNCTION

Calls FUNCTION of an Extism plugin (a .wasm file, or a JSON manifest with -m or when the
file starts with '{') and prints its output followed by a newline. The plugin gets only what
the options grant: no files, no network, no WASI unless asked for.

options (as `extism call`):
  -i, --input TEXT                   the call's input (default: empty)
      --stdin                        read the input from standard input
      --loop N                       call N times on the same plugin (variables persist);
                                     prints one output line per call
      --wasi                         enable WASI preview1 (the plugin's stdout/stderr are shown)
      --allow-path [ro:]HOST[:GUEST] mount directory HOST at GUEST (default: the same path);
                                     "ro:" mounts it read-only; needs --wasi; repeatable
      --allow-host GLOB              allow HTTP requests to hosts matching GLOB (*, ?, [...]);
                                     repeatable; default: no host
      --allow-source GLOB            fetch the manifest's "url" sources from hosts matching GLOB
                                     (within --timeout, else 30 s); repeatable; default: none
      --enable-http-response-headers let the plugin read response headers
      --timeout MS                   fail the call with "timeout" after MS milliseconds
      --memory-max PAGES             memory growth budget (plugin memory + kernel region) in
                                     64 KiB pages; going over fails the call with "oom"
      --http-response-max BYTES      largest HTTP response body (default 52428800)
      --var-max BYTES                size of the variable store (default 1048576; 0 disables)
      --config KEY=VALUE             set a config value; repeatable
      --set-config JSON              set config values from a JSON object of strings
  -m, --manifest                     the file is a JSON manifest
      --log-level LEVEL              show plugin logs at LEVEL and above on stderr
                                     (trace, debug, info, warn, error; default: off)
      --link NAME=PATH               add module PATH under NAME for the plugin to import from;
                                     repeatable
      --fuel N                       meter execution: each call may use about N instructions
                                     ("plugin ran out of fuel" beyond)

the capability gate (docs/policy.md):
      --policy FILE                  call under the tier policy FILE (and the plugin documents
                                     it names): only the granted imports link, the tier's and
                                     the document's quotas hold, I/O schemas are checked
      --plugin-id ID                 the plugin is the one of document ID (its tier, grants,
                                     quotas, schemas)
      --tier NAME                    a plugin without a document, in tier NAME
      --source NAME                  a plugin without a document, from source NAME (the tier
                                     listing it, else default_tier)
                                     (none of the three: the policy's default_tier)
      --signature FILE               the plugin's signature (ed25519, cosign or DSSE; required
                                     when the tier says supply_chain.signature: required)
  -h, --help                         show this help

exit status, as `extism call`: 0 when every call succeeds; 1 when the plugin cannot be loaded
or a call fails, with "error: MESSAGE (rc N)" on stderr, where N is the call's return code
(-1 for errors of the host, 134 for a trap, N for a non-zero return or proc_exit(N)); 2 for
usage errors. Text that comes from the plugin (its error message, names) is shown escaped:
control characters as \n, \x1b, ... The plugin's output is written as it is.
)help";

bool parse_u64(const std::string& text, uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && !text.empty();
}

int fail(const std::string& message, int status = kExitFailure) {
  fmt::print(stderr, "error: {}\n", message);
  return status;
}

}  // namespace

int call_command(const std::vector<std::string>& args) {
  using namespace extism;
  std::string input;
  bool read_stdin = false, force_manifest = false;
  uint64_t loops = 1;
  PluginOptions options;
  options.wasi_stdio = true;
  std::vector<std::string> allowed_hosts;
  bool any_host_flag = false;
  std::vector<std::pair<std::string, std::string>> paths;
  std::optional<uint64_t> timeout, memory_max, http_max, var_max;
  std::map<std::string, std::string> config;
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> positional;
  GateArgs gate;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto number = [&](std::optional<uint64_t>& out) {
      std::string v;
      uint64_t n;
      if (!value(v) || !parse_u64(v, n)) return false;
      out = n;
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kHelp);
      return kExitOk;
    } else if (a == "-i" || a == "--input") {
      if (!value(input)) return usage_error("call", a + " needs a value");
    } else if (a == "--stdin") {
      read_stdin = true;
    } else if (a == "--loop") {
      std::optional<uint64_t> n;
      if (!number(n) || *n == 0) return usage_error("call", "--loop needs a positive count");
      loops = *n;
    } else if (a == "--wasi") {
      options.wasi = true;
    } else if (a == "--allow-path") {
      if (!value(v)) return usage_error("call", "--allow-path needs [ro:]HOST[:GUEST]");
      const bool ro = v.starts_with("ro:");
      std::string rest = ro ? v.substr(3) : v;
      std::string host = rest, guest = rest;
      if (auto colon = rest.find(':'); colon != std::string::npos) {
        host = rest.substr(0, colon);
        guest = rest.substr(colon + 1);
      }
      if (host.empty() || guest.empty())
        return usage_error("call", "--allow-path needs [ro:]HOST[:GUEST]");
      paths.emplace_back((ro ? "ro:" : "") + host, guest);
    } else if (a == "--allow-host") {
      if (!value(v)) return usage_error("call", "--allow-host needs a host glob");
      allowed_hosts.push_back(v);
      any_host_flag = true;
    } else if (a == "--allow-source") {
      if (!value(v)) return usage_error("call", "--allow-source needs a host glob");
      options.allowed_sources.push_back(v);
    } else if (a == "--enable-http-response-headers") {
      options.http_response_headers = true;
    } else if (a == "--timeout") {
      if (!number(timeout)) return usage_error("call", "--timeout needs milliseconds");
    } else if (a == "--memory-max") {
      if (!number(memory_max) || *memory_max > 0xFFFFFFFFu)
        return usage_error("call", "--memory-max needs a page count");
    } else if (a == "--http-response-max") {
      if (!number(http_max)) return usage_error("call", "--http-response-max needs a byte count");
    } else if (a == "--var-max") {
      if (!number(var_max)) return usage_error("call", "--var-max needs a byte count");
    } else if (a == "--config") {
      if (!value(v) || v.find('=') == std::string::npos)
        return usage_error("call", "--config needs KEY=VALUE");
      config[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    } else if (a == "--set-config") {
      if (!value(v)) return usage_error("call", "--set-config needs a JSON object");
      try {
        const auto object = nlohmann::json::parse(v);
        if (!object.is_object()) return usage_error("call", "--set-config needs a JSON object");
        for (const auto& [key, val] : object.items()) {
          if (!val.is_string())
            return usage_error("call", "--set-config: value of \"" + key + "\" is not a string");
          config[key] = val.get<std::string>();
        }
      } catch (const nlohmann::json::exception& e) {
        return usage_error("call", std::string("--set-config: ") + e.what());
      }
    } else if (a == "-m" || a == "--manifest") {
      force_manifest = true;
    } else if (a == "--log-level") {
      if (!value(v)) return usage_error("call", "--log-level needs a level");
      auto level = parse_log_level(v);
      if (!level)
        return usage_error("call",
                           "unknown log level '" + v + "' (trace, debug, info, warn, error, off)");
      options.log_level = *level;
    } else if (a == "--link") {
      if (!value(v) || v.find('=') == std::string::npos)
        return usage_error("call", "--link needs NAME=PATH");
      links.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
    } else if (a == "--fuel") {
      std::optional<uint64_t> n;
      if (!number(n)) return usage_error("call", "--fuel needs a number");
      options.quota.fuel_per_call = *n;
    } else if (std::string error; gate.take(args, i, error)) {
      if (!error.empty()) return usage_error("call", error);
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("call", "unknown option '" + escape_untrusted(a) + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return usage_error("call", "expected WASM|MANIFEST and FUNCTION");
  if (auto problem = gate.problem()) return usage_error("call", *problem);
  const std::string& file = positional[0];
  const std::string& function = positional[1];

  std::vector<uint8_t> bytes;
  if (std::string reason; !read_file(file, bytes, reason)) {
    return fail(escape_untrusted(file) + ": cannot read: " + reason);
  }
  Manifest manifest;
  const bool is_manifest = force_manifest || (!bytes.empty() && bytes[0] == '{');
  if (is_manifest) {
    auto parsed = parse_manifest({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    if (!parsed) return fail(escape_untrusted(file) + ": " + parsed.error().message);
    manifest = std::move(*parsed);
  } else {
    WasmSource main;
    main.data = std::move(bytes);
    manifest.wasm.push_back(std::move(main));
  }
  for (auto& [name, path] : links) {
    WasmSource s;
    s.kind = WasmSource::Kind::Path;
    s.path = path;
    s.name = name;
    manifest.wasm.insert(manifest.wasm.begin(), std::move(s));
  }
  if (any_host_flag) {
    if (!manifest.allowed_hosts) manifest.allowed_hosts.emplace();
    manifest.allowed_hosts->insert(manifest.allowed_hosts->end(), allowed_hosts.begin(),
                                   allowed_hosts.end());
  }
  for (auto& p : paths) manifest.allowed_paths.push_back(p);
  if (!manifest.allowed_paths.empty() && !options.wasi)
    return usage_error("call", "--allow-path (or allowed_paths) needs --wasi");
  if (timeout) manifest.timeout_ms = timeout;
  if (memory_max) manifest.max_pages = static_cast<uint32_t>(*memory_max);
  if (http_max) manifest.max_http_response_bytes = *http_max;
  if (var_max) manifest.max_var_bytes = *var_max;
  for (auto& [k, val] : config) manifest.config[k] = val;
  options.log_sink = [](LogLevel level, std::string_view message) {
    fmt::print(stderr, "[{}] {}\n", log_level_name(level), message);
  };

  if (read_stdin)
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

  // Without --policy, the plugin as `extism call` runs it; with it, under the gate.
  std::unique_ptr<Plugin> plain;
  std::unique_ptr<policy::GatedPlugin> gated;
  if (gate.policy_file.empty()) {
    auto plugin = Plugin::create(manifest, std::move(options));
    if (!plugin) return fail(plugin.error().message);
    plain = std::move(*plugin);
  } else {
    auto loaded = policy::Policy::load(gate.policy_file);
    if (!loaded) {
      for (const policy::PolicyError& e : loaded.error()) fmt::print(stderr, "{}\n", e.text());
      return fail("the policy is not valid; see `warden policy check`");
    }
    for (const policy::PolicyError& w : loaded->warnings()) fmt::print(stderr, "{}\n", w.text());
    auto admission = loaded->admit(gate.identity);
    if (!admission) return fail(admission.error().message);
    std::optional<std::vector<uint8_t>> signature;
    if (!gate.signature_file.empty()) {
      signature.emplace();
      if (std::string reason;
          !read_file(gate.signature_file, *signature, reason, policy::kMaxSignatureBytes))
        return fail(escape_untrusted(gate.signature_file) + ": cannot read: " + reason);
    }
    auto plugin =
        policy::GatedPlugin::create(*admission, manifest, std::move(signature), std::move(options));
    if (!plugin) return fail(plugin.error().message);
    gated = std::move(*plugin);
  }
  auto call_once = [&]() -> Result<std::string_view, PluginError> {
    if (plain) return plain->call(function, input);
    auto r = gated->call(function, input);
    if (!r)
      return Failure{
          PluginError{r.error().plugin_kind, std::move(r.error().message), r.error().rc}};
    return *r;
  };
  for (uint64_t i = 0; i < loops; ++i) {
    auto output = call_once();
    if (!output) {
      std::fflush(stdout);
      // Exit 1 for every failed call (a shell reads 134 as SIGABRT); the rc is in the message.
      return fail(output.error().message + " (rc " + std::to_string(output.error().rc) + ")");
    }
    std::fwrite(output->data(), 1, output->size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace warden::cli
