// warden call: run an Extism plugin function, with the flags of `extism call`.
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "hostabi/plugin.h"
#include "policy/gate.h"
#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "tools/command_line.h"
#include "tools/gate_args.h"

namespace warden::cli {
namespace {

constexpr const char* kHelp = R"help(usage: warden call [OPTIONS] WASM|MANIFEST|URL FUNCTION

Calls FUNCTION of an Extism plugin (a .wasm file, a JSON manifest with -m or when the file
starts with '{', or an http:// or https:// URL of a .wasm file, fetched from that host only)
and prints its output followed by a newline. The plugin gets only what the options grant: no
files, no network, no WASI unless asked for. Options take their value as `--input TEXT`,
`--input=TEXT` or `-iTEXT`; `--` ends the options.

options (as `extism call`):
  -i, --input TEXT                   the call's input (default: empty)
      --stdin                        read the input from standard input
      --loop N                       call N times on the same plugin (variables persist);
                                     prints one output line per call
      --wasi                         enable WASI preview1 (the plugin's stdout/stderr are shown)
      --allow-path [ro:]HOST[:GUEST] mount directory HOST at GUEST (default: the same path);
                                     "ro:" mounts it read-only; needs --wasi; repeatable
      --allow-host GLOB              allow HTTP requests to hosts matching GLOB (*, ?, [...]);
                                     host names only (a scheme or port never matches);
                                     repeatable; default: no host
      --allow-source GLOB            fetch the manifest's "url" sources from hosts matching GLOB
                                     (within --timeout, else 30 s); repeatable; default: none
      --enable-http-response-headers let the plugin read response headers
      --timeout MS                   fail the call with "timeout" after MS milliseconds
                                     (also --timeout-ms, as `warden run`)
      --memory-max PAGES             memory growth budget (plugin memory + kernel region) in
                                     64 KiB pages; going over fails the call with "oom"
                                     (also --max-memory-pages)
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
      --module-cache DIR             keep validation results in DIR (made 0700 if missing), so
                                     a later run with the same module and warden build does
                                     not validate it again (docs/extism.md)

reporting (on stderr; the plugin's output alone goes to stdout):
      --stats                        after each call: its time, fuel used (with --fuel), memory
                                     pages and output bytes
  -v, --verbose                      also say what is loaded (source, size, SHA-256) and the
                                     limits in force
  -q, --quiet                        no warnings, plugin logs or error messages: the exit status
                                     alone tells
      --log-format text|json         text lines (default), or one JSON object per line:
                                     {"level", "message"} and, for a failed call, "kind" and "rc";
                                     stats as {"level":"stats", ...}

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

// Everything the command says on stderr, as text lines or JSON objects, and not at all with -q.
struct Reporter {
  bool json = false, quiet = false, verbose = false;

  // warden's own errors and warnings read "error: ..." in text; plugin logs and stats
  // "[level] ...".
  void line(std::string_view level, const std::string& message,
            const nlohmann::json& extra = nlohmann::json::object(),
            bool from_plugin = false) const {
    if (quiet) return;
    if (json) {
      nlohmann::json object = {{"level", level}, {"message", message}};
      if (from_plugin) object["source"] = "plugin";
      object.update(extra);
      fmt::print(stderr, "{}\n",
                 object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (!from_plugin && (level == "error" || level == "warning")) {
      fmt::print(stderr, "{}: {}\n", level, message);
    } else {
      fmt::print(stderr, "[{}] {}\n", level, message);
    }
  }
  int fail(const std::string& message) const {
    line("error", message);
    return kExitFailure;
  }
  void warn(const std::string& message) const { line("warning", message); }
  void info(const std::string& message) const {
    if (verbose) line("info", message);
  }
};

bool is_url(const std::string& text) {
  return text.starts_with("https://") || text.starts_with("http://");
}

// The host of an http(s) URL: between "//" (and any "user@") and the port, path or query.
std::string url_host(const std::string& url) {
  std::string rest = url.substr(url.find("//") + 2);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (rest.starts_with("[")) return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

// --allow-host matches host names: "https://x" or "x:8080" never match a request, so say so.
std::optional<std::string> allow_host_problem(const std::string& glob) {
  if (glob.find("://") != std::string::npos)
    return "--allow-host '" + escape_untrusted(glob) +
           "' has a scheme: only host names match (give '" + escape_untrusted(url_host(glob)) +
           "')";
  const size_t colon = glob.rfind(':');
  if (colon != std::string::npos && glob.find(':') == colon && colon + 1 < glob.size() &&
      glob.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    return "--allow-host '" + escape_untrusted(glob) +
           "' has a port: only host names match, on every port (give '" +
           escape_untrusted(glob.substr(0, colon)) + "')";
  return std::nullopt;
}

bool looks_like_wasm(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 'a' && bytes[2] == 's' &&
         bytes[3] == 'm';
}

}  // namespace

int call_command(const std::vector<std::string>& args) {
  using namespace extism;
  std::string input;
  bool read_stdin = false, force_manifest = false, stats = false, http_headers = false;
  uint64_t loops = 1;
  PluginOptions options;
  options.wasi_stdio = true;
  std::vector<std::string> allowed_hosts, path_specs, config_pairs, link_specs;
  std::optional<uint64_t> timeout, memory_max, http_max, var_max, fuel;
  std::optional<std::string> set_config, log_level, module_cache;
  std::string log_format = "text";
  Reporter report;
  GateArgs gate;

  CommandLine cl("call", kHelp);
  CLI::App& app = cl.app;
  app.add_option("-i,--input", input);
  app.add_flag("--stdin", read_stdin);
  app.add_option("--loop", loops)->check(CLI::PositiveNumber);
  app.add_flag("--wasi", options.wasi);
  cl.add_list("--allow-path", path_specs);
  cl.add_list("--allow-host", allowed_hosts);
  cl.add_list("--allow-source", options.allowed_sources);
  app.add_flag("--enable-http-response-headers", http_headers);
  app.add_option("--timeout,--timeout-ms", timeout);
  app.add_option("--memory-max,--max-memory-pages", memory_max)
      ->check(CLI::Range(uint64_t{0}, uint64_t{0xFFFFFFFF}));
  app.add_option("--http-response-max", http_max);
  app.add_option("--var-max", var_max);
  cl.add_list("--config", config_pairs);
  app.add_option("--set-config", set_config);
  app.add_flag("-m,--manifest", force_manifest);
  app.add_option("--log-level", log_level);
  cl.add_list("--link", link_specs);
  app.add_option("--fuel", fuel);
  app.add_option("--module-cache", module_cache);
  app.add_flag("--stats", stats);
  app.add_flag("-v,--verbose", report.verbose);
  app.add_flag("-q,--quiet", report.quiet);
  app.add_option("--log-format", log_format)->check(CLI::IsMember({"text", "json"}));
  gate.add_to(app);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  if (parsed.positionals.size() != 2)
    return usage_error("call", "expected WASM|MANIFEST|URL and FUNCTION, got " +
                                   std::to_string(parsed.positionals.size()) + " arguments");
  if (auto problem = gate.problem()) return usage_error("call", *problem);
  report.json = log_format == "json";
  const std::string& file = parsed.positionals[0];
  const std::string& function = parsed.positionals[1];

  options.http_response_headers = http_headers;
  if (fuel) options.quota.fuel_per_call = *fuel;
  if (log_level) {
    auto level = parse_log_level(*log_level);
    if (!level)
      return usage_error("call", "unknown log level '" + escape_untrusted(*log_level) +
                                     "' (trace, debug, info, warn, error, off)");
    options.log_level = *level;
  }
  std::map<std::string, std::string> config;
  if (set_config) {
    try {
      const auto object = nlohmann::json::parse(*set_config);
      if (!object.is_object()) return usage_error("call", "--set-config needs a JSON object");
      for (const auto& [key, val] : object.items()) {
        if (!val.is_string())
          return usage_error(
              "call", "--set-config: value of \"" + escape_untrusted(key) + "\" is not a string");
        config[key] = val.get<std::string>();
      }
    } catch (const nlohmann::json::exception& e) {
      return usage_error("call", std::string("--set-config: ") + e.what());
    }
  }
  for (const std::string& pair : config_pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos)
      return usage_error("call", "--config needs KEY=VALUE, got '" + escape_untrusted(pair) + "'");
    config[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  std::vector<std::pair<std::string, std::string>> paths, links;
  for (const std::string& v : path_specs) {
    const bool ro = v.starts_with("ro:");
    std::string rest = ro ? v.substr(3) : v;
    std::string host = rest, guest = rest;
    if (auto colon = rest.find(':'); colon != std::string::npos) {
      host = rest.substr(0, colon);
      guest = rest.substr(colon + 1);
    }
    if (host.empty() || guest.empty())
      return usage_error("call",
                         "--allow-path needs [ro:]HOST[:GUEST], got '" + escape_untrusted(v) + "'");
    paths.emplace_back((ro ? "ro:" : "") + host, guest);
  }
  for (const std::string& v : link_specs) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      return usage_error("call", "--link needs NAME=PATH, got '" + escape_untrusted(v) + "'");
    links.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
  for (const std::string& glob : allowed_hosts) {
    if (auto problem = allow_host_problem(glob)) report.warn(*problem);
  }

  Manifest manifest;
  if (is_url(file)) {
    if (force_manifest) return usage_error("call", "-m takes a manifest file, not a URL");
    WasmSource main;
    main.kind = WasmSource::Kind::Url;
    main.url = file;
    manifest.wasm.push_back(std::move(main));
    // Naming the URL allows its host, and no other, as a source.
    options.allowed_sources.push_back(url_host(file));
    report.info("fetching " + escape_untrusted(file));
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
      return report.fail(escape_untrusted(file) +
                         " is a directory; give a .wasm file, a JSON manifest or a URL");
    std::vector<uint8_t> bytes;
    if (std::string reason; !read_file(file, bytes, reason))
      return report.fail(escape_untrusted(file) + ": cannot read: " + reason);
    const bool wasm = looks_like_wasm(bytes);
    if (force_manifest && wasm)
      return report.fail(escape_untrusted(file) +
                         " is a WebAssembly module, not a manifest (drop -m to call it)");
    if (force_manifest || (!bytes.empty() && bytes[0] == '{')) {
      auto manifest_parsed =
          parse_manifest({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      if (!manifest_parsed)
        return report.fail(escape_untrusted(file) + ": " + manifest_parsed.error().message);
      manifest = std::move(*manifest_parsed);
      report.info("manifest " + escape_untrusted(file) + ": " +
                  std::to_string(manifest.wasm.size()) + " module(s)");
    } else {
      if (!wasm)
        return report.fail(escape_untrusted(file) +
                           " is neither a WebAssembly module (no \\0asm header) nor a JSON "
                           "manifest");
      report.info("module " + escape_untrusted(file) + ": " + std::to_string(bytes.size()) +
                  " bytes, sha256 " + sha256_hex(bytes));
      WasmSource main;
      main.data = std::move(bytes);
      manifest.wasm.push_back(std::move(main));
    }
  }
  for (auto& [name, path] : links) {
    WasmSource s;
    s.kind = WasmSource::Kind::Path;
    s.path = path;
    s.name = name;
    manifest.wasm.insert(manifest.wasm.begin(), std::move(s));
  }
  if (!allowed_hosts.empty()) {
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
  options.log_sink = [&report](LogLevel level, std::string_view message) {
    report.line(log_level_name(level), std::string(message), nlohmann::json::object(), true);
  };

  if (read_stdin)
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

  if (module_cache) {
    auto cache = ModuleCache::open(*module_cache);
    if (!cache) return report.fail(cache.error().message);
    options.module_cache = *cache;
  }
  const std::shared_ptr<ModuleCache> cache = options.module_cache;

  // Without --policy, the plugin as `extism call` runs it; with it, under the gate.
  std::unique_ptr<Plugin> plain;
  std::unique_ptr<policy::GatedPlugin> gated;
  if (gate.policy_file.empty()) {
    auto plugin = Plugin::create(manifest, std::move(options));
    if (!plugin) return report.fail(plugin.error().message);
    plain = std::move(*plugin);
  } else {
    auto loaded = policy::Policy::load(gate.policy_file);
    if (!loaded) {
      for (const policy::PolicyError& e : loaded.error()) report.line("error", e.text());
      return report.fail("the policy is not valid; see `warden policy check`");
    }
    for (const policy::PolicyError& w : loaded->warnings()) report.warn(w.text());
    auto admission = loaded->admit(gate.identity);
    if (!admission) return report.fail(admission.error().message);
    std::optional<std::vector<uint8_t>> signature;
    if (!gate.signature_file.empty()) {
      signature.emplace();
      if (std::string reason;
          !read_file(gate.signature_file, *signature, reason, policy::kMaxSignatureBytes))
        return report.fail(escape_untrusted(gate.signature_file) + ": cannot read: " + reason);
    }
    auto plugin =
        policy::GatedPlugin::create(*admission, manifest, std::move(signature), std::move(options));
    if (!plugin) return report.fail(plugin.error().message);
    gated = std::move(*plugin);
  }
  Plugin& plugin = plain ? *plain : gated->plugin();
  if (report.verbose && cache) {
    const ModuleCache::Stats s = cache->stats();
    report.info(fmt::format(
        "module cache {}: {} hit, {} validated ({} entries ignored, {} not stored)",
        escape_untrusted(cache->dir().string()), s.hits, s.misses, s.ignored, s.write_failures));
  }
  if (report.verbose) {
    const Quota& q = plugin.quota();
    report.info(fmt::format(
        "limits: fuel {}, timeout {}, memory {}",
        q.fuel_per_call ? std::to_string(*q.fuel_per_call) : "unmetered",
        manifest.timeout_ms ? std::to_string(*manifest.timeout_ms) + " ms" : "none",
        manifest.max_pages ? std::to_string(*manifest.max_pages) + " pages" : "module's own"));
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
    const auto started = std::chrono::steady_clock::now();
    auto output = call_once();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (output) {
      std::fwrite(output->data(), 1, output->size(), stdout);
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    if (stats) {
      nlohmann::json figures = {{"call", i + 1},
                                {"ok", bool(output)},
                                {"time_ms", ms},
                                {"memory_pages", plugin.memory_pages()},
                                {"output_bytes", output ? output->size() : 0}};
      std::string text =
          fmt::format("call {}: {} in {:.3f} ms", i + 1, output ? "ok" : "failed", ms);
      if (fuel) {
        figures["fuel_used"] = plugin.fuel_used();
        text += fmt::format(", fuel used {} of {}", plugin.fuel_used(), *fuel);
      }
      text += fmt::format(", memory {} pages, output {} bytes", plugin.memory_pages(),
                          output ? output->size() : 0);
      report.line("stats", text, figures);
    }
    if (!output) {
      // Exit 1 for every failed call (a shell reads 134 as SIGABRT); the rc is in the message.
      const PluginError& e = output.error();
      report.line("error", e.message + " (rc " + std::to_string(e.rc) + ")",
                  {{"kind", error_kind_name(e.kind)}, {"rc", e.rc}});
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace warden::cli
