// The capability gate: from a tier policy and its per-plugin documents to an admission (tier,
// grants, quota, supply-chain rules, I/O schemas) for one plugin, and a GatedPlugin that enforces
// it: the plugin's bytes are read once, verified (signature, static analysis) and compiled from
// the same buffer; every import is checked against the grants before any plugin code runs;
// quotas hold at run time (hostabi/host_link.h, hostabi/quota.h); input and output are validated
// against the function's schemas. docs/policy.md is the reference.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostabi/plugin.h"
#include "policy/audit.h"
#include "policy/io_schema.h"
#include "policy/policy_document.h"
#include "policy/signature.h"

namespace warden::policy {

// The gate's one error type.
struct GateError {
  enum class Kind {
    Policy,     // the documents are invalid, or name no tier for this plugin
    Denied,     // an import needs a capability the grants lack (deny: at_link)
    Signature,  // required and missing, or it does not verify
    Audit,      // static analysis is required and refused the plugin
    Schema,     // input or output does not validate
    Plugin,     // the plugin itself failed (creation or the call: rc and message as Extism's)
  };
  Kind kind;
  std::string message;
  int32_t rc = -1;
  // The Plugin API's kind for the plugin's own failures (Kind::Plugin, and Kind::Denied when a
  // quota refused); Denied for the gate's refusals.
  extism::ErrorKind plugin_kind = extism::ErrorKind::Denied;
};

// Which plugin this is: by id (its document), or by tier or source (no document). All empty:
// the policy's default_tier.
struct PluginIdentity {
  std::optional<std::string> plugin_id, tier, source;
};

// What the policy decides for one plugin.
struct Admission {
  std::string plugin_id;  // "" without a document
  std::string tier;
  const PluginDocument* document = nullptr;
  extism::Grants grants;
  extism::Quota quota;
  std::optional<std::vector<std::string>> allowed_hosts;            // nullopt: the tier sets none
  std::optional<std::map<std::string, std::string>> allowed_paths;  // nullopt: none set
  SupplyChain supply_chain;
  std::vector<PublicKey> keys;  // the tier's accepted keys, loaded
  std::map<std::string, IoSchemas, std::less<>> io;
};

// A tier policy with its plugin documents, loaded and checked together.
class Policy {
 public:
  static Result<Policy, std::vector<PolicyError>> load(const std::string& path,
                                                       const LoadOptions& options = {});
  // The admission of one plugin; refused when the identity names nothing in the policy.
  Result<Admission, GateError> admit(const PluginIdentity& who) const;

  const TierPolicy& tiers() const { return *tiers_; }
  const std::vector<PluginDocument>& documents() const { return *documents_; }
  // Expired reviews and similar: shown, never refused.
  const std::vector<PolicyError>& warnings() const { return warnings_; }

 private:
  std::shared_ptr<const TierPolicy> tiers_;
  std::shared_ptr<const std::vector<PluginDocument>> documents_;
  std::vector<PolicyError> warnings_;
  std::shared_ptr<std::map<std::string, std::vector<PublicKey>>> keys_;  // per tier
};

// The manifest as the admission allows it: allowed_hosts and allowed_paths only narrowed (a host
// or path the policy does not grant is refused, naming it), memory no larger than the quota.
Result<extism::Manifest, GateError> narrow_manifest(const extism::Manifest& manifest,
                                                    const Admission& admission);

// The supply-chain check of a plugin's main module under an admission: `signature` (if given)
// verified with the tier's keys, or refused when the tier requires one and none is given. A
// DSSE statement must name the admission's plugin id (when it has one), and it bounds `grants`
// to the capabilities its publisher signed (plus memory_only). Returns what was verified, or
// nullopt for an unsigned plugin the tier admits. GatedPlugin::create and `warden audit` use it.
Result<std::optional<Verified>, GateError> check_signature(
    const Admission& admission, std::span<const uint8_t> plugin,
    const std::optional<std::vector<uint8_t>>& signature, extism::Grants& grants);

class GatedPlugin {
 public:
  // Reads every source of `manifest` once; verifies the main module's signature (required by
  // the tier, or given), audits when the tier requires it, then creates the plugin from those
  // same bytes with the admission's grants and quota. `options` supplies the rest (logging,
  // WASI stdio, the embedder's functions); its quota is narrowed by the admission's.
  static Result<std::unique_ptr<GatedPlugin>, GateError> create(
      const Admission& admission, const extism::Manifest& manifest,
      std::optional<std::vector<uint8_t>> signature, extism::PluginOptions options = {});

  // The call, with the function's input schema checked before the plugin runs and its output
  // schema after.
  Result<std::string_view, GateError> call(std::string_view function,
                                           std::span<const uint8_t> input);
  Result<std::string_view, GateError> call(std::string_view function, std::string_view input) {
    return call(function, {reinterpret_cast<const uint8_t*>(input.data()), input.size()});
  }

  // Another instance of this admitted plugin: the same verified bytes (their compiled module is
  // shared), grants, quota, schemas and account, with `options` for the rest (functions,
  // logging), and no second verification or audit. The multi-tenant host's pools make their
  // instances with it.
  Result<std::unique_ptr<GatedPlugin>, GateError> spawn(extism::PluginOptions options = {}) const;

  extism::Plugin& plugin() { return *plugin_; }
  const Admission& admission() const { return admission_; }
  const std::optional<Verified>& signature() const { return verified_; }

 private:
  GatedPlugin() = default;
  Admission admission_;
  std::unique_ptr<extism::Plugin> plugin_;
  std::optional<Verified> verified_;
  struct Schemas {
    std::optional<JsonSchema> input, output;
  };
  using SchemaMap = std::map<std::string, Schemas, std::less<>>;
  std::shared_ptr<const SchemaMap> schemas_;
  std::shared_ptr<const extism::Manifest> manifest_;  // narrowed, every source read into memory
};

}  // namespace warden::policy
