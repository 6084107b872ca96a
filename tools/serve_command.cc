// warden serve: the multi-tenant host (policy/host/) behind HTTP, with cpp-httplib (Debian's
// libcpp-httplib-dev). docs/serve.md is the reference.
#include <fmt/core.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "decoder/untrusted_text.h"
#include "hostabi/manifest.h"
#include "policy/host/kv_functions.h"
#include "policy/host/plugin_host.h"
#include "tools/cli.h"
#include "tools/command_line.h"

namespace warden::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHelp =
    R"help(usage: warden serve --policy FILE --plugins DIR [--listen HOST:PORT] [--audit-log FILE
                    [--audit-fail-closed]] [--max-body BYTES] [--max-instances N]
                    [--prewarm N] [--no-snapshots] [--threads N]
                    [--state sqlite:PATH | redis://HOST:PORT]
                    [--admin-listen HOST:PORT --admin-token-file FILE [--max-upload BYTES]]
                    [--watch-ms N] [--canary-share F] [--canary-window S]
                    [--module-cache DIR]

Runs the plugins of DIR for many tenants behind HTTP: each call runs on the tenant's own
instance, under the capability gate of the tier policy FILE.

  --policy FILE        the tier policy (docs/policy.md); plugins are admitted under their
                       document in it, else its default_tier
  --plugins DIR        each DIR/ID.wasm (or DIR/ID.json, an Extism manifest) is plugin ID; a
                       signature beside it (ID.wasm.sig, or ID.dsse) is verified with the
                       tier's keys. A plugin the gate refuses is reported and not served
  --listen HOST:PORT   where to listen (default 127.0.0.1:8080; port 0: any free port, printed)
  --audit-log FILE     append JSON-lines audit records (docs/host.md)
  --audit-fail-closed  refuse every call whose audit record cannot be written
  --audit-sample N     also record one of every N host calls that pass the gate (default 0: none)
  --max-body BYTES     the largest request body (default 1048576); larger: 413
  --max-instances N    instances bound to tenants, across plugins (default 1024)
  --prewarm N          fresh instances kept ready per plugin (default 0)
  --no-snapshots       start every new tenant's instance afresh (instantiate, then init),
                       not from the copy-on-write snapshot taken after the plugin's init
  --threads N          HTTP worker threads (default 8)
  --state sqlite:PATH  shared state for plugins ("warden:kv", docs/host.md) in an SQLite file,
  --state redis://HOST:PORT  or on a Redis server several hosts share; tiers grant it with the
                       capabilities kv, kv_shared_read, kv_shared_write
  --admin-listen HOST:PORT   the admin API's own listener (port 0: any free port, printed)
  --admin-token-file FILE    its bearer token (the file's first line; the file may not be
                             readable by others)
  --max-upload BYTES   the largest plugin upload (default 67108864)
  --watch-ms N         poll DIR every N ms (default 2000; 0: never): an added file is a new
                       plugin, a replaced one a new version, tried as a canary
  --canary-share F     the share of tenants a new version from DIR gets (default 0.1)
  --canary-window S    seconds before a healthy canary is promoted (default 300)
  --module-cache DIR   keep validation results in DIR (made 0700 if missing): a restart with
                       the same plugins and warden build does not validate them again
  -h, --help           show this help

API:
  POST /v1/plugins/ID/call/FUNCTION   header X-Tenant-Id (required), body = input;
                                      200 with the output, else a JSON error (docs/serve.md)
  GET  /metrics                       Prometheus text format
  GET  /healthz                       {"status":"ok","plugins":[...]}
Admin API (with Authorization: Bearer TOKEN, on --admin-listen):
  GET  /v1/plugins                          every plugin: active version, canary, share, tallies
  PUT  /v1/plugins/ID/versions/VERSION      body = the .wasm; header X-Warden-Signature: base64
       [?canary=SHARE]                      of its signature; with canary, a canary of the active
                                            version, else the new active version
  POST /v1/plugins/ID/canary?share=SHARE    change a running canary's share
  POST /v1/plugins/ID/promote, /rollback    end the canary

SIGTERM or SIGINT stops accepting connections, lets the calls in flight finish, then exits 0.

exit status: 0 after a clean stop, 1 when the policy, a listed file or the address cannot be
used, 2 for usage errors.
)help";

// The HTTP status of each outcome (docs/serve.md has the table).
int status_of(host::HostError::Kind kind) {
  using K = host::HostError::Kind;
  switch (kind) {
    case K::BadRequest: return 400;
    case K::UnknownPlugin: return 404;
    case K::Admission: return 403;
    case K::Denied: return 403;
    case K::Quota: return 429;
    case K::Timeout: return 504;
    case K::OutOfFuel: return 508;
    case K::Oom: return 507;
    case K::Trap: return 500;
    case K::PluginFailed: return 422;
    case K::PoolFull: return 503;
    case K::Audit: return 503;
  }
  return 500;
}

void json_error(httplib::Response& res, int status, std::string_view kind,
                std::string_view message) {
  // Messages are the library's, already escaped where guest bytes entered them: cut, not escaped
  // twice; the dump replaces any invalid UTF-8.
  const nlohmann::json body = {{"error", std::string(kind)},
                               {"message", std::string(message.substr(0, 4096))}};
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// HOST:PORT, the port 0..65535.
std::optional<std::pair<std::string, int>> parse_address(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  int port = -1;
  const std::string p = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535)
    return std::nullopt;
  return std::pair{text.substr(0, colon), port};
}

// The token: the first line of a file that others cannot read. Returns why not, or "".
std::string read_token(const std::string& path, std::string& token) {
  std::error_code ec;
  const auto perms = fs::status(path, ec).permissions();
  if (ec) return "cannot read: " + ec.message();
  if ((perms & (fs::perms::others_read | fs::perms::group_read)) != fs::perms::none)
    return "the token file is readable by others (chmod 600 it)";
  std::vector<uint8_t> bytes;
  std::string reason;
  if (!read_file(path, bytes, reason, 4096)) return "cannot read: " + reason;
  token.assign(bytes.begin(), bytes.end());
  token = token.substr(0, token.find('\n'));
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (token.size() < 16) return "the token is shorter than 16 bytes";
  return "";
}

// Compares without an early exit, so the time taken says nothing of where they differ.
bool same_token(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

// The plugins of --plugins DIR: each ID.wasm or ID.json is plugin ID, its version the first 12
// hex digits of the file's SHA-256. scan() admits what is new: at start every file, later (every
// --watch-ms) a file added (a new plugin) or replaced (a new version, as a canary by
// --canary-share and --canary-window). Refusals are printed; the previous version stays.
class PluginDirectory {
 public:
  PluginDirectory(host::PluginHost& host, fs::path dir, host::CanaryOptions canary)
      : host_(host), dir_(std::move(dir)), canary_(canary) {}

  void scan(bool initial) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file(ec) && (ext == ".wasm" || ext == ".json"))
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const auto mtime = fs::last_write_time(file, ec);
      const auto size = fs::file_size(file, ec);
      if (ec) continue;  // gone meanwhile
      Seen& seen = seen_[file.string()];
      if (!initial && seen.mtime == mtime && seen.size == size) continue;
      seen.mtime = mtime;
      seen.size = size;
      admit(file, initial);
    }
  }

 private:
  struct Seen {
    fs::file_time_type mtime{};
    uintmax_t size = 0;
  };

  void admit(const fs::path& file, bool initial) {
    const std::string id = file.stem().string();
    std::vector<uint8_t> bytes;
    std::string reason;
    if (!read_file(file.string(), bytes, reason)) {
      fmt::print(stderr, "warden serve: {}: cannot read: {}\n", escape_untrusted(file.string()),
                 reason);
      return;
    }
    const std::string version = extism::sha256_hex(bytes).substr(0, 12);
    if (auto d = host_.deployment(id); d && (d->active == version || d->canary == version)) return;
    extism::Manifest manifest;
    if (file.extension() == ".json") {
      auto parsed =
          extism::parse_manifest({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      if (!parsed) {
        fmt::print(stderr, "warden serve: {}: {}\n", escape_untrusted(file.string()),
                   parsed.error().message);
        return;
      }
      manifest = std::move(*parsed);
    } else {
      extism::WasmSource main;
      main.data = std::move(bytes);
      manifest.wasm.push_back(std::move(main));
    }
    std::optional<std::vector<uint8_t>> signature;
    std::error_code ec;
    for (const fs::path& sig : {fs::path(file.string() + ".sig"), dir_ / (id + ".dsse")}) {
      std::vector<uint8_t> s;
      if (fs::exists(sig, ec) && read_file(sig.string(), s, reason, policy::kMaxSignatureBytes)) {
        signature = std::move(s);
        break;
      }
    }
    const bool as_canary = !initial && host_.active_version(id).has_value();
    auto added = as_canary ? host_.add_canary(id, version, manifest, std::move(signature), canary_)
                           : host_.add(id, version, manifest, std::move(signature));
    if (!added) {
      fmt::print(stderr, "warden serve: plugin {} refused: {}\n", quote_untrusted(id),
                 added.error().message);
      return;
    }
    if (!initial)
      fmt::print(stderr, "warden serve: {} {}@{}\n",
                 as_canary ? "new version, as a canary:" : "new plugin:", escape_untrusted(id),
                 version);
  }

  host::PluginHost& host_;
  fs::path dir_;
  host::CanaryOptions canary_;
  std::map<std::string, Seen> seen_;  // by file
};

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  std::string policy_file, plugins_dir, listen = "127.0.0.1:8080", audit_file, state;
  std::string admin_listen, admin_token_file, module_cache;
  uint64_t max_upload = uint64_t{64} << 20, watch_ms = 2000, canary_window_s = 300,
           audit_sample = 0;
  double canary_share = 0.1;
  bool fail_closed = false;
  uint64_t max_body = 1 << 20, max_instances = 1024, prewarm = 0, threads = 8;
  bool snapshots = true;
  bool no_snapshots = false;
  CommandLine cl("serve", kHelp);
  CLI::App& app = cl.app;
  app.add_option("--policy", policy_file);
  app.add_option("--plugins", plugins_dir);
  app.add_option("--listen", listen);
  app.add_option("--audit-log", audit_file);
  app.add_option("--state", state)
      ->check(
          [](const std::string& v) -> std::string {
            return (v.starts_with("sqlite:") && v.size() > 7) || v.starts_with("redis://")
                       ? ""
                       : "--state needs sqlite:PATH or redis://HOST:PORT";
          },
          "sqlite:PATH|redis://HOST:PORT");
  app.add_option("--admin-listen", admin_listen);
  app.add_option("--admin-token-file", admin_token_file);
  app.add_option("--max-upload", max_upload)->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  app.add_option("--audit-sample", audit_sample)
      ->check(CLI::Range(uint64_t{0}, uint64_t{1'000'000}));
  app.add_option("--watch-ms", watch_ms)->check(CLI::Range(uint64_t{0}, uint64_t{3'600'000}));
  app.add_option("--canary-window", canary_window_s)
      ->check(CLI::Range(uint64_t{1}, uint64_t{86'400 * 7}));
  app.add_option("--canary-share", canary_share)->check(CLI::Range(0.0, 1.0));
  app.add_flag("--audit-fail-closed", fail_closed);
  app.add_option("--module-cache", module_cache);
  app.add_flag("--no-snapshots", no_snapshots);
  app.add_option("--max-body", max_body)->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  app.add_option("--max-instances", max_instances)
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  app.add_option("--prewarm", prewarm)->check(CLI::Range(uint64_t{0}, uint64_t{64}));
  app.add_option("--threads", threads)->check(CLI::Range(uint64_t{1}, uint64_t{256}));
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  if (!parsed.positionals.empty())
    return usage_error("serve", "unexpected argument '" + escape_untrusted(parsed.positionals[0]) +
                                    "' (serve takes options only)");
  snapshots = !no_snapshots;
  if (policy_file.empty() || plugins_dir.empty())
    return usage_error("serve", "--policy FILE and --plugins DIR are required");
  if (fail_closed && audit_file.empty())
    return usage_error("serve", "--audit-fail-closed needs --audit-log");
  auto address = parse_address(listen);
  if (!address)
    return usage_error("serve", "--listen needs HOST:PORT, got '" + escape_untrusted(listen) + "'");
  const auto [host_name, port] = *address;
  std::optional<std::pair<std::string, int>> admin_address;
  std::string admin_token;
  if (admin_listen.empty() != admin_token_file.empty())
    return usage_error("serve", "--admin-listen and --admin-token-file go together");
  if (!admin_listen.empty()) {
    admin_address = parse_address(admin_listen);
    if (!admin_address)
      return usage_error(
          "serve", "--admin-listen needs HOST:PORT, got '" + escape_untrusted(admin_listen) + "'");
    if (auto token = read_token(admin_token_file, admin_token); !token.empty()) {
      fmt::print(stderr, "error: {}: {}\n", escape_untrusted(admin_token_file), token);
      return kExitFailure;
    }
  }

  policy::LoadOptions load_options;
  load_options.extra_capabilities = host::kv_capabilities();  // grantable with or without --state
  auto policy = policy::Policy::load(policy_file, load_options);
  if (!policy) {
    for (const policy::PolicyError& e : policy.error()) fmt::print(stderr, "{}\n", e.text());
    fmt::print(stderr, "error: the policy is not valid; see `warden policy check`\n");
    return kExitFailure;
  }
  for (const policy::PolicyError& w : policy->warnings()) fmt::print(stderr, "{}\n", w.text());
  std::error_code ec;
  if (!fs::is_directory(plugins_dir, ec)) {
    fmt::print(stderr, "error: {}: not a directory\n", escape_untrusted(plugins_dir));
    return kExitFailure;
  }
  host::HostOptions options;
  options.pool.max_instances = max_instances;
  options.pool.prewarm = prewarm;
  options.snapshots = snapshots;
  if (!module_cache.empty()) {
    auto cache = extism::ModuleCache::open(module_cache);
    if (!cache) {
      fmt::print(stderr, "error: {}\n", cache.error().message);
      return kExitFailure;
    }
    options.plugin_options.module_cache = *cache;
  }
  auto metrics = std::make_shared<host::HostMetrics>();
  options.metrics = metrics;
  if (!state.empty()) {
    Result<std::unique_ptr<host::KvStore>, host::KvError> kv =
        Failure{host::KvError{host::KvError::Kind::Backend, ""}};
    if (state.starts_with("redis://")) {
      auto address = parse_address(state.substr(8));
      if (!address)
        return usage_error(
            "serve", "--state needs redis://HOST:PORT, got '" + escape_untrusted(state) + "'");
      kv = host::open_redis_store(address->first, address->second);
    } else {
      kv = host::open_sqlite_store(state.substr(7));
    }
    if (!kv) {
      fmt::print(stderr, "error: {}\n", kv.error().message);
      return kExitFailure;
    }
    options.kv = std::move(*kv);
  }
  if (!audit_file.empty()) {
    auto log = host::AuditLog::open(
        audit_file, {.fail_closed = fail_closed,
                     .host_call_sample_every = static_cast<uint32_t>(audit_sample)});
    if (!log) {
      fmt::print(stderr, "error: {}\n", log.error());
      return kExitFailure;
    }
    options.audit = std::move(*log);
  }
  // SIGTERM and SIGINT are taken by one thread (sigwait), blocked everywhere else: the HTTP
  // threads start after this.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that goes away is an error on its socket, not our end

  host::PluginHost plugins(std::move(*policy), std::move(options));
  host::CanaryOptions canary;
  canary.share = canary_share;
  canary.window = std::chrono::seconds(canary_window_s);
  PluginDirectory directory(plugins, plugins_dir, canary);
  directory.scan(/*initial=*/true);

  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(max_body);
  // Without it a response's headers and body wait on the client's delayed ACK: +40 ms a call.
  server.set_tcp_nodelay(true);
  std::atomic<uint64_t> in_flight{0};

  server.Post(R"(/v1/plugins/([^/]+)/call/([^/]+))",
              [&](const httplib::Request& req, httplib::Response& res) {
                ++in_flight;
                struct Done {
                  std::atomic<uint64_t>& n;
                  ~Done() { --n; }
                } done{in_flight};
                const std::string tenant = req.get_header_value("X-Tenant-Id");
                if (tenant.empty())
                  return json_error(res, 400, "bad_request", "a call needs an X-Tenant-Id header");
                auto r = plugins.call(req.matches[1].str(), tenant, req.matches[2].str(), req.body);
                if (!r)
                  return json_error(res, status_of(r.error().kind),
                                    host::host_error_kind_name(r.error().kind), r.error().message);
                res.status = 200;
                res.set_content(r->output, "application/octet-stream");
              });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->text(), "text/plain; version=0.0.4");
  });
  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& id : plugins.plugin_ids())
      if (auto version = plugins.active_version(id))
        list.push_back({{"id", escape_untrusted(id)}, {"version", escape_untrusted(*version)}});
    res.set_content(nlohmann::json{{"status", "ok"}, {"plugins", list}}.dump(), "application/json");
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error
    if (res.status == 404)
      return json_error(res, 404, "not_found",
                        "no route " + escape_untrusted(req.method + " " + req.path, 512));
    if (res.status == 413)
      return json_error(res, 413, "bad_request", "the request body is over --max-body");
    if (res.status == 400)
      return json_error(res, 400, "bad_request",
                        "malformed request (a POST needs a Content-Length or chunked body)");
    json_error(res, res.status, "http_error", "HTTP " + std::to_string(res.status));
  });

  // The admin API, on its own listener, every request with the bearer token.
  httplib::Server admin;
  if (admin_address) {
    admin.set_tcp_nodelay(true);
    admin.set_payload_max_length(max_upload);
    admin.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.starts_with("Bearer ") && same_token(auth.substr(7), admin_token))
        return httplib::Server::HandlerResponse::Unhandled;
      json_error(res, 401, "unauthorized", "the admin API needs Authorization: Bearer TOKEN");
      res.set_header("WWW-Authenticate", "Bearer");
      return httplib::Server::HandlerResponse::Handled;
    });
    auto result = [](httplib::Response& res, const Result<void, host::HostError>& r,
                     const std::string& done) {
      if (!r)
        return json_error(res, status_of(r.error().kind),
                          host::host_error_kind_name(r.error().kind), r.error().message);
      res.set_content(nlohmann::json{{"result", done}}.dump(), "application/json");
    };
    admin.Get("/v1/plugins", [&](const httplib::Request&, httplib::Response& res) {
      nlohmann::json list = nlohmann::json::array();
      for (const std::string& id : plugins.plugin_ids()) {
        auto d = plugins.deployment(id);
        if (!d) continue;
        auto tally = [](const host::VersionTally& t) {
          return nlohmann::json{{"calls", t.calls},
                                {"errors", t.errors},
                                {"timeouts", t.timeouts},
                                {"quota_rejections", t.quota_rejections}};
        };
        nlohmann::json entry = {{"id", escape_untrusted(id)},
                                {"active", escape_untrusted(d->active)}};
        if (d->canary) {
          entry["canary"] = {{"version", escape_untrusted(*d->canary)},
                             {"share", d->share},
                             {"tally", tally(d->canary_tally)},
                             {"active_tally", tally(d->active_tally)}};
        }
        list.push_back(std::move(entry));
      }
      res.set_content(list.dump(), "application/json");
    });
    admin.Put(R"(/v1/plugins/([^/]+)/versions/([^/]+))", [&](const httplib::Request& req,
                                                             httplib::Response& res) {
      const std::string id = req.matches[1].str(), version = req.matches[2].str();
      std::optional<std::vector<uint8_t>> signature;
      if (req.has_header("X-Warden-Signature")) {
        signature = policy::base64_decode_strict(req.get_header_value("X-Warden-Signature"));
        if (!signature)
          return json_error(res, 400, "bad_request", "X-Warden-Signature is not base64");
      }
      extism::Manifest manifest;
      extism::WasmSource main;
      main.data.assign(req.body.begin(), req.body.end());
      manifest.wasm.push_back(std::move(main));
      if (req.has_param("canary")) {
        double share = -1;
        const std::string text = req.get_param_value("canary");
        std::from_chars(text.data(), text.data() + text.size(), share);
        host::CanaryOptions canary;
        canary.share = share;
        auto r = plugins.add_canary(id, version, manifest, std::move(signature), canary);
        fmt::print(stderr, "warden serve: admin: canary {}@{}: {}\n", quote_untrusted(id),
                   escape_untrusted(version), r ? "added" : r.error().message);
        return result(res, r, "canary");
      }
      auto r = plugins.add(id, version, manifest, std::move(signature));
      fmt::print(stderr, "warden serve: admin: version {}@{}: {}\n", quote_untrusted(id),
                 escape_untrusted(version), r ? "active" : r.error().message);
      result(res, r, "active");
    });
    admin.Post(R"(/v1/plugins/([^/]+)/(canary|promote|rollback))",
               [&](const httplib::Request& req, httplib::Response& res) {
                 const std::string id = req.matches[1].str(), action = req.matches[2].str();
                 Result<void, host::HostError> r =
                     Failure{host::HostError{host::HostError::Kind::BadRequest, ""}};
                 if (action == "canary") {
                   double share = -1;
                   const std::string text = req.get_param_value("share");
                   std::from_chars(text.data(), text.data() + text.size(), share);
                   r = plugins.set_canary_share(id, share);
                 } else {
                   r = action == "promote" ? plugins.promote(id) : plugins.rollback(id);
                 }
                 fmt::print(stderr, "warden serve: admin: {} {}: {}\n", action, quote_untrusted(id),
                            r ? "done" : r.error().message);
                 result(res, r, action);
               });
    admin.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404)
        return json_error(res, 404, "not_found",
                          "no route " + escape_untrusted(req.method + " " + req.path, 512));
      if (res.status == 413)
        return json_error(res, 413, "bad_request", "the upload is over --max-upload");
      json_error(res, res.status, "http_error", "HTTP " + std::to_string(res.status));
    });
  }

  const int bound = port == 0 ? server.bind_to_any_port(host_name)
                              : (server.bind_to_port(host_name, port) ? port : -1);
  if (bound < 0) {
    fmt::print(stderr, "error: cannot listen on {}\n", escape_untrusted(listen));
    return kExitFailure;
  }
  int admin_bound = -1;
  if (admin_address) {
    const auto& [admin_host, admin_port] = *admin_address;
    admin_bound = admin_port == 0 ? admin.bind_to_any_port(admin_host)
                                  : (admin.bind_to_port(admin_host, admin_port) ? admin_port : -1);
    if (admin_bound < 0) {
      fmt::print(stderr, "error: cannot listen on {}\n", escape_untrusted(admin_listen));
      return kExitFailure;
    }
    fmt::print(stderr, "warden serve: admin API on http://{}:{}\n", escape_untrusted(admin_host),
               admin_bound);
  }
  std::string names;
  const std::vector<std::string> ids = plugins.plugin_ids();
  for (const std::string& id : ids)
    names += " " + escape_untrusted(id) + "@" + plugins.active_version(id).value_or("?");
  fmt::print(stderr, "warden serve: listening on http://{}:{} ({} plugin{}:{})\n",
             escape_untrusted(host_name), bound, ids.size(), ids.size() == 1 ? "" : "s", names);
  std::fflush(stderr);
  std::thread admin_thread;
  if (admin_address) admin_thread = std::thread([&] { admin.listen_after_bind(); });

  // The directory, polled for added and replaced files.
  std::mutex watch_mutex;
  std::condition_variable watch_wake;
  bool watch_stop = false;
  std::thread watcher;
  if (watch_ms > 0)
    watcher = std::thread([&] {
      std::unique_lock lock(watch_mutex);
      while (!watch_wake.wait_for(lock, std::chrono::milliseconds(watch_ms),
                                  [&] { return watch_stop; }))
        directory.scan(/*initial=*/false);
    });

  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    signalled = true;
    fmt::print(stderr, "warden serve: {}: stopping ({} calls in flight)\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT", in_flight.load());
    server.stop();
    admin.stop();
  });
  const bool ok = server.listen_after_bind();
  // listen_after_bind returns once stopped, after the worker threads finished their requests.
  if (!ok && server.is_running()) fmt::print(stderr, "error: the server stopped on an error\n");
  if (!signalled) pthread_kill(stopper.native_handle(), SIGTERM);  // wakes its sigwait
  stopper.join();
  admin.stop();
  if (admin_thread.joinable()) admin_thread.join();
  {
    std::lock_guard lock(watch_mutex);
    watch_stop = true;
  }
  watch_wake.notify_all();
  if (watcher.joinable()) watcher.join();
  fmt::print(stderr, "warden serve: stopped\n");
  return kExitOk;
}

}  // namespace warden::cli
