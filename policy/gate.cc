#include "policy/gate.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "decoder/untrusted_text.h"
#include "hostabi/http.h"
#include "validator/load_module.h"

namespace warden::policy {
namespace {

using extism::Quota;

GateError error(GateError::Kind kind, std::string message) {
  return GateError{kind, std::move(message), -1};
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Quota to_quota(const ResourceLimits& limits) {
  Quota q;
  q.memory_bytes = limits.memory_bytes;
  q.fuel_per_call = limits.fuel_per_call;
  if (limits.timeout_ms) q.timeout = std::chrono::milliseconds(*limits.timeout_ms);
  q.cpu_seconds_per_call = limits.cpu_seconds_per_call;
  q.concurrent_calls = limits.concurrent_calls;
  q.max_output_bytes = limits.max_output_bytes;
  q.max_log_bytes_per_call = limits.max_log_bytes_per_call;
  q.http_egress_bytes_per_call = limits.http_egress_bytes_per_call;
  for (const auto& [capability, rate] : limits.host_calls_per_second)
    q.host_calls_per_second.emplace(capability, rate);
  return q;
}

// A host dir of allowed_paths without its "ro:" prefix, and whether it had one.
std::pair<std::filesystem::path, bool> mount_dir(const std::string& host) {
  const bool ro = host.starts_with("ro:");
  return {std::filesystem::path(ro ? host.substr(3) : host).lexically_normal(), ro};
}

bool beneath(const std::filesystem::path& dir, const std::filesystem::path& root) {
  auto d = dir.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++d) {
    if (r->empty()) continue;  // a trailing separator
    if (d == dir.end() || *d != *r) return false;
  }
  return true;
}

}  // namespace

Result<Policy, std::vector<PolicyError>> Policy::load(const std::string& path,
                                                      const LoadOptions& options) {
  auto tiers = load_tier_policy(path, options);
  if (!tiers) return Failure{std::move(tiers.error())};
  std::vector<PolicyError> errors;
  std::vector<PluginDocument> documents;
  for (const std::string& p : tiers->plugin_paths) {
    auto docs = load_plugin_documents(p, options);
    if (!docs) {
      errors.insert(errors.end(), docs.error().begin(), docs.error().end());
      continue;
    }
    for (PluginDocument& d : *docs) documents.push_back(std::move(d));
  }
  for (const PluginDocument& d : documents)
    for (PolicyError& e : check_within_tier(d, *tiers)) errors.push_back(std::move(e));
  for (PolicyError& e : check_documents(*tiers, documents)) errors.push_back(std::move(e));
  Policy policy;
  policy.keys_ = std::make_shared<std::map<std::string, std::vector<PublicKey>>>();
  for (const Tier& tier : tiers->tiers) {
    auto& keys = (*policy.keys_)[tier.name];
    for (const std::string& file : tier.supply_chain.key_files) {
      auto key = read_public_key_file(file);
      if (!key) {
        errors.push_back(PolicyError{tier.where, "tier " + quote_untrusted(tier.name) + ": key " +
                                                     escape_untrusted(file) + ": " +
                                                     key.error().message});
        continue;
      }
      keys.push_back(std::move(*key));
    }
  }
  if (!errors.empty()) return Failure{std::move(errors)};
  policy.warnings_ = review_warnings(documents, today());
  policy.tiers_ = std::make_shared<const TierPolicy>(std::move(*tiers));
  policy.documents_ = std::make_shared<const std::vector<PluginDocument>>(std::move(documents));
  return policy;
}

Result<Admission, GateError> Policy::admit(const PluginIdentity& who) const {
  const TierPolicy& policy = *tiers_;
  const PluginDocument* doc = nullptr;
  const Tier* tier = nullptr;
  if (who.plugin_id) {
    for (const PluginDocument& d : *documents_)
      if (d.plugin_id == *who.plugin_id) doc = &d;
    if (!doc)
      return Failure{error(GateError::Kind::Policy,
                           "policy: no plugin document in " + escape_untrusted(policy.file) +
                               " has plugin_id " + quote_untrusted(*who.plugin_id))};
    tier = policy.find(doc->tier);
  } else if (who.tier) {
    tier = policy.find(*who.tier);
    if (!tier)
      return Failure{error(GateError::Kind::Policy, "policy: " + escape_untrusted(policy.file) +
                                                        " has no tier " +
                                                        quote_untrusted(*who.tier))};
  } else if (who.source) {
    tier = policy.for_source(*who.source);
    if (!tier && policy.default_tier) tier = policy.find(*policy.default_tier);
    if (!tier)
      return Failure{
          error(GateError::Kind::Policy, "policy: no tier of " + escape_untrusted(policy.file) +
                                             " lists source " + quote_untrusted(*who.source) +
                                             ", and it has no default_tier")};
  } else {
    if (policy.default_tier) tier = policy.find(*policy.default_tier);
    if (!tier)
      return Failure{error(GateError::Kind::Policy,
                           "policy: " + escape_untrusted(policy.file) +
                               " has no default_tier: name the plugin (--plugin-id), its tier "
                               "(--tier) or its source (--source)")};
  }
  if (!tier)  // check_within_tier refused documents with unknown tiers already
    return Failure{error(GateError::Kind::Policy, "policy: unknown tier")};

  Admission a;
  a.tier = tier->name;
  a.document = doc;
  a.grants.tier = tier->name;
  a.grants.deny =
      tier->deny == DenyMode::AtCall ? extism::DenyMode::AtCall : extism::DenyMode::AtLink;
  std::set<std::string, std::less<>> capabilities{std::string(extism::capability::kMemoryOnly)};
  const std::vector<std::string>& granted =
      doc && doc->host_api_capabilities ? *doc->host_api_capabilities : tier->capabilities;
  capabilities.insert(granted.begin(), granted.end());
  a.grants.capabilities = std::move(capabilities);
  a.quota = to_quota(tier->limits);
  a.allowed_hosts = tier->limits.allowed_hosts;
  a.allowed_paths = tier->limits.allowed_paths;
  if (doc) {
    a.plugin_id = doc->plugin_id;
    a.grants.plugin_id = doc->plugin_id;
    a.quota.narrow(to_quota(doc->quotas));
    if (doc->quotas.allowed_hosts) a.allowed_hosts = doc->quotas.allowed_hosts;
    if (doc->quotas.allowed_paths) a.allowed_paths = doc->quotas.allowed_paths;
    a.io = doc->io;
  }
  a.supply_chain = tier->supply_chain;
  if (auto it = keys_->find(tier->name); it != keys_->end()) a.keys = it->second;
  return a;
}

Result<extism::Manifest, GateError> narrow_manifest(const extism::Manifest& manifest,
                                                    const Admission& admission) {
  extism::Manifest out = manifest;
  const std::string who = admission.plugin_id.empty()
                              ? "tier " + quote_untrusted(admission.tier)
                              : "plugin " + quote_untrusted(admission.plugin_id);
  // allowed_hosts: each of the manifest's must be one the policy allows (as a glob, or matched
  // by one); without any, the policy's.
  if (manifest.allowed_hosts && !manifest.allowed_hosts->empty()) {
    for (const std::string& host : *manifest.allowed_hosts) {
      bool ok = false;
      if (admission.allowed_hosts)
        for (const std::string& glob : *admission.allowed_hosts)
          ok |= glob == host || extism::host_matches(glob, host);
      if (!ok)
        return Failure{error(GateError::Kind::Denied,
                             "policy: the manifest allows host " + quote_untrusted(host) +
                                 ", which the policy does not grant " + who)};
    }
  } else {
    out.allowed_hosts = admission.allowed_hosts;
  }
  // allowed_paths: each host dir the same as or beneath a policy dir, read-only if that is.
  if (!manifest.allowed_paths.empty()) {
    for (const auto& [host, guest] : manifest.allowed_paths) {
      const auto [dir, ro] = mount_dir(host);
      bool ok = false;
      if (admission.allowed_paths)
        for (const auto& [policy_host, policy_guest] : *admission.allowed_paths) {
          const auto [root, root_ro] = mount_dir(policy_host);
          ok |= beneath(dir, root) && (ro || !root_ro);
        }
      if (!ok)
        return Failure{error(GateError::Kind::Denied,
                             "policy: the manifest mounts " + quote_untrusted(host) +
                                 ", which the policy does not grant " + who + " (allowed_paths)")};
    }
  } else if (admission.allowed_paths) {
    out.allowed_paths.clear();
    for (const auto& [host, guest] : *admission.allowed_paths)
      out.allowed_paths.emplace_back(host, guest);
  }
  return out;
}

Result<std::optional<Verified>, GateError> check_signature(
    const Admission& admission, std::span<const uint8_t> plugin,
    const std::optional<std::vector<uint8_t>>& signature, extism::Grants& grants) {
  if (!signature) {
    if (admission.supply_chain.signature == Requirement::Required)
      return Failure{error(GateError::Kind::Signature,
                           "signature: tier " + quote_untrusted(admission.tier) +
                               " requires a signed plugin, and no signature was given")};
    return std::optional<Verified>();
  }
  if (admission.keys.empty())
    return Failure{error(GateError::Kind::Signature, "signature: tier " +
                                                         quote_untrusted(admission.tier) +
                                                         " accepts no keys (supply_chain.keys)")};
  auto verified = verify_signature(plugin, *signature, admission.keys);
  if (!verified)
    return Failure{error(GateError::Kind::Signature, "signature: " + verified.error().message)};
  if (const auto& statement = verified->statement) {
    if (!admission.plugin_id.empty() && statement->name != admission.plugin_id)
      return Failure{error(GateError::Kind::Signature, "signature: the envelope was signed for " +
                                                           quote_untrusted(statement->name) +
                                                           ", not plugin " +
                                                           quote_untrusted(admission.plugin_id))};
    // A signed statement bounds the grants: the publisher's capabilities, no more.
    std::set<std::string, std::less<>> bounded{std::string(extism::capability::kMemoryOnly)};
    for (const std::string& c : statement->capabilities)
      if (grants.allows(c)) bounded.insert(c);
    grants.capabilities = std::move(bounded);
  }
  return std::optional<Verified>(std::move(*verified));
}

Result<std::unique_ptr<GatedPlugin>, GateError> GatedPlugin::create(
    const Admission& admission, const extism::Manifest& manifest,
    std::optional<std::vector<uint8_t>> signature, extism::PluginOptions options) {
  std::unique_ptr<GatedPlugin> gated(new GatedPlugin());
  gated->admission_ = admission;
  auto narrowed = narrow_manifest(manifest, admission);
  if (!narrowed) return Failure{std::move(narrowed.error())};
  extism::Manifest& m = *narrowed;
  if (m.wasm.empty())
    return Failure{error(GateError::Kind::Plugin, "a plugin needs at least one wasm module")};
  // Every source read once, into memory: what is verified is what is compiled.
  extism::SourceFetch fetch;
  fetch.allowed_hosts = options.allowed_sources;
  fetch.deadline = std::chrono::steady_clock::now() +
                   options.create_timeout.value_or(
                       std::chrono::milliseconds(manifest.timeout_ms.value_or(30'000)));
  fetch.cancelled = options.create_cancelled;
  size_t main_index = m.wasm.size() - 1;
  for (size_t i = 0; i < m.wasm.size(); ++i) {
    if (m.wasm[i].module_name() == "main") main_index = i;
    if (m.wasm[i].kind == extism::WasmSource::Kind::Data && !m.wasm[i].hash) continue;
    auto bytes = extism::load_source(m.wasm[i], fetch);
    if (!bytes) return Failure{error(GateError::Kind::Plugin, bytes.error().message)};
    extism::WasmSource data;
    data.kind = extism::WasmSource::Kind::Data;
    data.data = std::move(*bytes);
    data.name = m.wasm[i].name;
    m.wasm[i] = std::move(data);
  }
  const std::vector<uint8_t>& main_bytes = m.wasm[main_index].data;

  // Supply chain: the signature.
  extism::Grants grants = admission.grants;
  auto verified = check_signature(admission, main_bytes, signature, grants);
  if (!verified) return Failure{verified.take_error()};
  gated->verified_ = std::move(*verified);

  // The plugin, under the grants and the quota (the embedder's own quota may be tighter).
  extism::Quota quota = admission.quota;
  quota.narrow(options.quota);
  options.quota = quota;
  options.grants = grants;
  if (!options.account) options.account = extism::PluginAccount::of(admission.plugin_id);
  auto plugin = extism::Plugin::create(m, std::move(options));
  if (!plugin) {
    const bool denied = plugin.error().message.starts_with("policy: ");
    return Failure{GateError{denied ? GateError::Kind::Denied : GateError::Kind::Plugin,
                             plugin.error().message, plugin.error().rc, plugin.error().kind}};
  }
  gated->plugin_ = std::move(*plugin);
  gated->admission_.grants = grants;
  gated->manifest_ = std::make_shared<const extism::Manifest>(std::move(m));

  // Static analysis, when the tier requires it: on the bytes already compiled.
  if (admission.supply_chain.static_analysis == Requirement::Required) {
    AuditInput input;
    input.grants = &grants;
    input.allowed_hosts = &admission.allowed_hosts;
    input.quota = &quota;
    const AuditReport report = audit_module(gated->plugin_->main_module()->module(), input,
                                            grants.deny == extism::DenyMode::AtCall);
    if (!report.admitted()) {
      std::string message = "static analysis refused the plugin:";
      for (const std::string& p : report.problems) message += " " + p + ";";
      message.pop_back();
      return Failure{error(GateError::Kind::Audit, std::move(message))};
    }
  }

  // The I/O schemas, per function.
  SchemaMap schemas;
  for (const auto& [function, io] : admission.io) {
    Schemas& s = schemas[function];
    if (io.input_schema) {
      auto schema = JsonSchema::load_file(*io.input_schema);
      if (!schema) return Failure{error(GateError::Kind::Policy, schema.error().message)};
      s.input = std::move(*schema);
    }
    if (io.output_schema) {
      auto schema = JsonSchema::load_file(*io.output_schema);
      if (!schema) return Failure{error(GateError::Kind::Policy, schema.error().message)};
      s.output = std::move(*schema);
    }
  }
  gated->schemas_ = std::make_shared<const SchemaMap>(std::move(schemas));
  return gated;
}

Result<std::unique_ptr<GatedPlugin>, GateError> GatedPlugin::spawn(
    extism::PluginOptions options) const {
  std::unique_ptr<GatedPlugin> gated(new GatedPlugin());
  gated->admission_ = admission_;
  gated->verified_ = verified_;
  gated->schemas_ = schemas_;
  gated->manifest_ = manifest_;
  extism::Quota quota = admission_.quota;
  quota.narrow(options.quota);
  options.quota = quota;
  options.grants = admission_.grants;
  // The prototype's account: concurrency, rates and the event sink span every instance.
  if (!options.account) options.account = plugin_->shared_account();
  // The prototype's compiled modules, unless the fuel metering differs (then compiled again).
  const bool same_metering =
      options.quota.fuel_per_call.has_value() == plugin_->quota().fuel_per_call.has_value();
  auto plugin = same_metering ? extism::Plugin::create_like(*plugin_, std::move(options))
                              : extism::Plugin::create(*manifest_, std::move(options));
  if (!plugin) {
    const bool denied = plugin.error().message.starts_with("policy: ");
    return Failure{GateError{denied ? GateError::Kind::Denied : GateError::Kind::Plugin,
                             plugin.error().message, plugin.error().rc, plugin.error().kind}};
  }
  gated->plugin_ = std::move(*plugin);
  return gated;
}

Result<std::string_view, GateError> GatedPlugin::call(std::string_view function,
                                                      std::span<const uint8_t> input) {
  const Schemas* schemas = nullptr;
  if (auto it = schemas_->find(function); it != schemas_->end()) schemas = &it->second;
  if (schemas && schemas->input) {
    const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
    if (auto problem = schemas->input->validate(text, "input"))
      return Failure{
          error(GateError::Kind::Schema,
                "policy: input of " + quote_untrusted(function) + " refused: " + *problem)};
  }
  auto output = plugin_->call(function, input);
  if (!output) {
    const bool denied = output.error().message.starts_with("policy: ");
    return Failure{GateError{denied ? GateError::Kind::Denied : GateError::Kind::Plugin,
                             output.error().message, output.error().rc, output.error().kind}};
  }
  if (schemas && schemas->output)
    if (auto problem = schemas->output->validate(*output, "output"))
      return Failure{
          error(GateError::Kind::Schema,
                "policy: output of " + quote_untrusted(function) + " refused: " + *problem)};
  return *output;
}

}  // namespace warden::policy
