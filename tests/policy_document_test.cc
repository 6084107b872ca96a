// The capability gate's documents (policy/policy_document.h, policy/size_units.h): the complete
// examples of docs/policy.md (read from tests/testdata/policy/, which the docs show verbatim),
// then one hostile document per rule, each asserting the exact FILE:LINE:COLUMN error text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/policy_document.h"
#include "policy/size_units.h"

namespace warden::policy {
namespace {

namespace fs = std::filesystem;

// Fixtures live beside this file (tests/CMakeLists.txt's WARDEN_TEST_DATA is the build tree).
const fs::path kData = fs::path(__FILE__).parent_path() / "testdata" / "policy";
const std::string kTierFile = (kData / "tier-policy.yaml").string();
const std::string kPluginDir = (kData / "plugin-threat-models").string();

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> texts(const Errors& errors) {
  std::vector<std::string> out;
  for (const PolicyError& e : errors) out.push_back(e.text());
  return out;
}
template <class T>
std::vector<std::string> errors_of(const Result<T, Errors>& result) {
  if (result.ok()) return {};
  return texts(result.error());
}
std::vector<std::string> tier_errors(std::string_view yaml, const LoadOptions& options = {}) {
  return errors_of(parse_tier_policy(yaml, "t.yaml", options));
}
std::vector<std::string> plugin_errors(std::string_view yaml, const LoadOptions& options = {}) {
  return errors_of(parse_plugin_document(yaml, "p.yaml", options));
}
using Texts = std::vector<std::string>;

const TierPolicy& fixture_policy() {
  static const TierPolicy policy = [] {
    auto loaded = load_tier_policy(kTierFile);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error()[0].text());
    return loaded.ok() ? loaded.value() : TierPolicy{};
  }();
  return policy;
}
// check_within_tier of an inline plugin document against the fixture policy.
Texts creep(std::string_view yaml) {
  auto doc = parse_plugin_document(yaml, "p.yaml");
  if (!doc.ok()) return {"(parse) " + doc.error()[0].text()};
  return texts(check_within_tier(doc.value(), fixture_policy()));
}

// ---- size units ---------------------------------------------------------------------------

TEST(SizeUnits, EveryUnit) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("7B"), 7u);
  EXPECT_EQ(parse_size("3KB"), 3000u);
  EXPECT_EQ(parse_size("32MB"), 32000000u);
  EXPECT_EQ(parse_size("2GB"), 2000000000u);
  EXPECT_EQ(parse_size("3KiB"), 3072u);
  EXPECT_EQ(parse_size("64MiB"), 67108864u);
  EXPECT_EQ(parse_size("2GiB"), 2147483648u);
  EXPECT_EQ(parse_size("64 MiB"), 67108864u);
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_size("17179869183GiB"), 17179869183ull << 30);
}

TEST(SizeUnits, RefusesOverflow) {
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("17179869184GiB"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999999999999GiB"), std::nullopt);
  EXPECT_EQ(parse_size("18446744073709551616B"), std::nullopt);
}

TEST(SizeUnits, RefusesFractionsAndGarbage) {
  for (const char* bad :
       {"",       " ",           "1.5GiB", "0.5MB", ".5",     "-1MB",  "-1",    "+1",
        "MB",     "32 furlongs", "32mb",   "32Mb",  "32  MB", " 32MB", "32MB ", "32 ",
        "32 M B", "32TB",        "32MiBs", "0x10",  "1e6",    "1_000"})
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
}

TEST(SizeUnits, FormatIsExactAndShortest) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(1234), "1234 B");
  EXPECT_EQ(format_size(67108864), "64 MiB");
  EXPECT_EQ(format_size(32000000), "32 MB");
  EXPECT_EQ(format_size(1024000), "1000 KiB");
  EXPECT_EQ(format_size(3 * 1000000000ull), "3 GB");
  EXPECT_EQ(format_size(UINT64_MAX), "18446744073709551615 B");
  for (uint64_t n : std::initializer_list<uint64_t>{0, 1, 999, 1000, 1024, 1048576, 123456789,
                                                    1ull << 40, UINT64_MAX})
    EXPECT_EQ(parse_size(format_size(n)), n) << n;
}

// ---- the complete examples ------------------------------------------------------------------

TEST(PolicyDocument, DocsShowTheFixturesVerbatim) {
  std::string docs = read(kData.parent_path().parent_path().parent_path() / "docs" / "policy.md");
  ASSERT_FALSE(docs.empty());
  for (const char* fixture : {"tier-policy.yaml", "plugin-threat-models/report-gen.yaml",
                              "plugin-threat-models/asset-index.yaml"})
    EXPECT_NE(docs.find("```yaml\n" + read(kData / fixture) + "```\n"), std::string::npos)
        << fixture << " is not shown verbatim in docs/policy.md";
}

TEST(PolicyDocument, LoadsTheCompleteTierPolicy) {
  const TierPolicy& policy = fixture_policy();
  ASSERT_EQ(policy.tiers.size(), 3u);
  EXPECT_EQ(policy.default_tier, "tier_3");
  EXPECT_EQ(policy.plugin_paths, std::vector<std::string>{kPluginDir + "/"});
  const Tier& t1 = policy.tiers[0];
  EXPECT_EQ(t1.name, "tier_1");
  EXPECT_EQ(t1.where.line, 5);
  EXPECT_EQ(t1.where.column, 3);
  EXPECT_EQ(t1.sources, (std::vector<std::string>{"vendor-shipped", "internal-plugins-repo"}));
  EXPECT_EQ(t1.capabilities.size(), 4u);
  EXPECT_EQ(t1.limits.memory_bytes, 512000000u);
  EXPECT_EQ(t1.limits.cpu_seconds_per_call, 5.0);
  EXPECT_EQ(t1.limits.concurrent_calls, 100u);
  EXPECT_EQ(t1.limits.fuel_per_call, 1000000000u);
  EXPECT_EQ(t1.limits.timeout_ms, 5000u);
  EXPECT_EQ(t1.limits.max_output_bytes, 1048576u);
  EXPECT_EQ(t1.limits.max_log_bytes_per_call, 65536u);
  EXPECT_EQ(t1.limits.http_egress_bytes_per_call, 10000000u);
  EXPECT_EQ(t1.limits.host_calls_per_second.at("log_emit"), 1000.0);
  EXPECT_EQ(t1.limits.allowed_hosts->size(), 2u);
  EXPECT_EQ(t1.limits.allowed_paths->at("ro:/srv/assets"), "/assets");
  EXPECT_EQ(t1.supply_chain.signature, Requirement::Required);
  EXPECT_EQ(t1.supply_chain.key_files,
            std::vector<std::string>{(kData / "keys" / "vendor.pub.pem").string()});
  EXPECT_EQ(t1.deny, DenyMode::AtLink);
  const Tier& t3 = *policy.find("tier_3");
  EXPECT_EQ(t3.limits.cpu_seconds_per_call, 0.5);
  EXPECT_EQ(t3.supply_chain.static_analysis, Requirement::Required);
  EXPECT_EQ(t3.deny, DenyMode::AtCall);
  EXPECT_EQ(policy.for_source("partners-allowlist"), policy.find("tier_2"));
  EXPECT_EQ(policy.for_source("elsewhere"), nullptr);
  EXPECT_EQ(policy.find("tier_4"), nullptr);
}

TEST(PolicyDocument, LoadsTheDirectoryOfPluginDocuments) {
  auto docs = load_plugin_documents(kPluginDir);
  ASSERT_TRUE(docs.ok()) << errors_of(docs)[0];
  ASSERT_EQ(docs->size(), 2u);  // README.txt is not read; sorted by name
  EXPECT_EQ((*docs)[0].plugin_id, "asset-index");
  const PluginDocument& doc = (*docs)[1];
  EXPECT_EQ(doc.plugin_id, "report-gen");
  EXPECT_EQ(doc.tier, "tier_3");
  EXPECT_EQ(doc.source, "customer-uploaded");
  EXPECT_EQ(doc.host_api_capabilities, std::vector<std::string>{"log_emit"});
  EXPECT_EQ(doc.quotas.memory_bytes, 16u << 20);
  EXPECT_EQ(doc.quotas.cpu_seconds_per_call, 0.2);
  EXPECT_EQ(doc.io.at("render").input_schema, (kData / "schemas" / "render.in.json").string());
  ASSERT_EQ(doc.trust_decisions.size(), 1u);
  EXPECT_EQ(doc.trust_decisions[0].risk, "low");
  EXPECT_EQ(doc.review->next_review, "2027-04-29");
  EXPECT_EQ(texts(check_documents(fixture_policy(), *docs)), Texts{});
  for (const PluginDocument& d : *docs)
    EXPECT_EQ(texts(check_within_tier(d, fixture_policy())), Texts{}) << d.plugin_id;
  auto one = load_plugin_documents(kPluginDir + "/report-gen.yaml");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST(PolicyDocument, DocumentKind) {
  EXPECT_EQ(document_kind(read(kTierFile)), DocumentKind::TierPolicy);
  EXPECT_EQ(document_kind(read(kPluginDir + "/report-gen.yaml")), DocumentKind::PluginDocument);
  EXPECT_EQ(document_kind("a: 1\n"), DocumentKind::Unknown);
  EXPECT_EQ(document_kind("[tiers]\n"), DocumentKind::Unknown);
  EXPECT_EQ(document_kind("tiers: [\n"), DocumentKind::Unknown);
  EXPECT_EQ(document_kind(std::string(100000, '[')), DocumentKind::Unknown);
}

TEST(PolicyDocument, ExpiredReviewWarns) {
  auto docs = load_plugin_documents(kPluginDir);
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(texts(review_warnings(*docs, "2026-09-01")), Texts{});
  EXPECT_EQ(texts(review_warnings(*docs, "2026-12-02")),
            Texts{kPluginDir + "/asset-index.yaml:18:16: warning: review of plugin "
                               "\"asset-index\" expired on 2026-09-01"});
}

// ---- hostile documents: shape -----------------------------------------------------------------

TEST(PolicyDocument, RefusesUnknownKeysEverywhere) {
  EXPECT_EQ(tier_errors("tiers:\n"
                        "  t:\n"
                        "    capabilites: [log_emit]\n"
                        "    resource_limits: {memroy: 1MB, swap: 1}\n"
                        "    supply_chain: {sbom: required}\n"
                        "colour: blue\n"),
            (Texts{"t.yaml:3:5: unknown key \"capabilites\" in tier \"t\" (did you mean "
                   "capabilities?)",
                   "t.yaml:4:23: unknown key \"memroy\" in resource_limits (did you mean memory?)",
                   "t.yaml:4:36: unknown key \"swap\" in resource_limits",
                   "t.yaml:5:20: unknown key \"sbom\" in supply_chain",
                   "t.yaml:2:3: tier \"t\" has no capabilities (write [memory_only] for the "
                   "memory ABI alone)",
                   "t.yaml:6:1: unknown key \"colour\" in the tier policy"}));
  EXPECT_EQ(plugin_errors("plugin_id: x\n"
                          "tier: t\n"
                          "io: {render: {input: a.json}}\n"
                          "trust_decisions: [{capability: log_emit, rationale: r, risk: low, "
                          "by: me}]\n"
                          "review: {reviewed_by: a, reviewed_at: 2026-01-01, next_review: "
                          "2027-01-01, when: now}\n"
                          "quotas: {cpu: 1}\n"
                          "notes: hi\n"),
            (Texts{"p.yaml:3:15: unknown key \"input\" in io entry \"render\"",
                   "p.yaml:4:67: unknown key \"by\" in a trust decision",
                   "p.yaml:5:76: unknown key \"when\" in review",
                   "p.yaml:6:10: unknown key \"cpu\" in quotas",
                   "p.yaml:7:1: unknown key \"notes\" in the plugin document"}));
}

TEST(PolicyDocument, RefusesWrongTypes) {
  EXPECT_EQ(tier_errors("default_tier: [t]\n"
                        "plugins: docs/\n"
                        "tiers:\n"
                        "  t:\n"
                        "    sources: vendor-shipped\n"
                        "    capabilities: log_emit\n"
                        "    resource_limits:\n"
                        "      memory: {a: 1}\n"
                        "      concurrent_calls: -1\n"
                        "      timeout_ms: 1.5\n"
                        "      fuel_per_call: 0\n"
                        "      cpu_seconds_per_call: 0\n"
                        "      host_calls_per_second: {log_emit: -1, wasi_clock: 0}\n"
                        "      allowed_hosts: api.example.com\n"
                        "      allowed_paths: [/srv]\n"
                        "    deny:\n"),
            (Texts{"t.yaml:1:15: default_tier: expected a string, got a list",
                   "t.yaml:2:10: plugins: expected a list, got a string",
                   "t.yaml:5:14: sources: expected a list, got a string",
                   "t.yaml:6:19: capabilities: expected a list, got a string",
                   "t.yaml:8:15: memory: expected a string, got a mapping",
                   "t.yaml:9:25: concurrent_calls: expected an integer from 1 to 4294967295, got "
                   "\"-1\"",
                   "t.yaml:10:19: timeout_ms: expected an integer from 1 to "
                   "18446744073709551615, got \"1.5\"",
                   "t.yaml:11:22: fuel_per_call: expected an integer from 1 to "
                   "18446744073709551615, got \"0\"",
                   "t.yaml:12:29: cpu_seconds_per_call: expected a number above 0, got \"0\"",
                   "t.yaml:13:41: host_calls_per_second[log_emit]: expected a number above 0, got "
                   "\"-1\"",
                   "t.yaml:13:57: host_calls_per_second[wasi_clock]: expected a number above 0, "
                   "got \"0\"",
                   "t.yaml:14:22: allowed_hosts: expected a list, got a string",
                   "t.yaml:15:22: allowed_paths: expected a mapping, got a list",
                   "t.yaml:16:5: deny: expected a string, got nothing"}));
  EXPECT_EQ(tier_errors("[tiers]\n"),
            Texts{"t.yaml:1:1: the tier policy: expected a mapping, got a list"});
  EXPECT_EQ(tier_errors("tiers: {}\n"), Texts{"t.yaml:1:8: tiers: no tier is defined"});
  EXPECT_EQ(tier_errors("default_tier: t\n"), Texts{"t.yaml: the tier policy has no tiers"});
  EXPECT_EQ(tier_errors("tiers: {[a]: {capabilities: []}}\n"),
            Texts{"t.yaml:1:9: tiers: a key must be a string, got a list"});
}

TEST(PolicyDocument, RefusesBadUnits) {
  const char* prefix = "tiers:\n  t:\n    capabilities: []\n    resource_limits:\n      memory: ";
  const std::string tail =
      "\" (an integer up to 2^64-1 bytes, then B, KB, MB, GB, KiB, MiB or GiB)";
  EXPECT_EQ(tier_errors(std::string(prefix) + "32 furlongs\n"),
            Texts{"t.yaml:5:15: memory: invalid size \"32 furlongs" + tail});
  EXPECT_EQ(tier_errors(std::string(prefix) + "-1MB\n"),
            Texts{"t.yaml:5:15: memory: invalid size \"-1MB" + tail});
  EXPECT_EQ(tier_errors(std::string(prefix) + "99999999999999999999GiB\n"),
            Texts{"t.yaml:5:15: memory: invalid size \"99999999999999999999GiB" + tail});
  EXPECT_EQ(tier_errors(std::string(prefix) + "1.5GiB\n"),
            Texts{"t.yaml:5:15: memory: invalid size \"1.5GiB" + tail});
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nquotas: {max_output_bytes: 1 KB, "
                          "max_log_bytes_per_call: 2kb}\n"),
            Texts{"p.yaml:3:58: max_log_bytes_per_call: invalid size \"2kb" + tail});
}

TEST(PolicyDocument, UnknownCapabilitySuggestsTheClosest) {
  const char* doc =
      "plugin_id: x\ntier: t\nhost_api_capabilities: [log_emitt, teleport, "
      "wasi_clok, log_emit, log_emit]\n";
  EXPECT_EQ(plugin_errors(doc),
            (Texts{"p.yaml:3:25: host_api_capabilities entry: unknown capability \"log_emitt\" "
                   "(did you mean log_emit?)",
                   "p.yaml:3:36: host_api_capabilities entry: unknown capability \"teleport\"",
                   "p.yaml:3:46: host_api_capabilities entry: unknown capability \"wasi_clok\" "
                   "(did you mean wasi_clock?)",
                   "p.yaml:3:67: host_api_capabilities: log_emit is listed twice"}));
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nhost_api_capabilities: [teleport]\n",
                          {.extra_capabilities = {"teleport"}}),
            Texts{});
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nhost_api_capabilities: [teleprt]\n",
                          {.extra_capabilities = {"teleport"}}),
            Texts{"p.yaml:3:25: host_api_capabilities entry: unknown capability \"teleprt\" (did "
                  "you mean teleport?)"});
}

TEST(PolicyDocument, RefusesBadEnumsAndDates) {
  EXPECT_EQ(tier_errors("tiers:\n  t:\n    capabilities: []\n"
                        "    supply_chain: {signature: mandatory, static_analysis: Required}\n"
                        "    deny: never\n"),
            (Texts{"t.yaml:4:31: signature: \"mandatory\" is not one of required|optional",
                   "t.yaml:4:59: static_analysis: \"Required\" is not one of required|optional",
                   "t.yaml:5:11: deny: \"never\" is not one of at_link|at_call"}));
  EXPECT_EQ(
      plugin_errors("plugin_id: x\ntier: t\n"
                    "trust_decisions:\n  - {capability: log_emit, rationale: r, risk: severe}\n"
                    "  - {capability: log_emit}\n"
                    "  - log_emit\n"
                    "review: {reviewed_by: a, reviewed_at: 2026-02-30, next_review: "
                    "2026/04/29}\n"),
      (Texts{"p.yaml:4:48: risk: \"severe\" is not one of low|medium|high",
             "p.yaml:5:5: a trust decision needs rationale",
             "p.yaml:5:5: a trust decision needs risk",
             "p.yaml:6:5: a trust decision: expected a mapping, got a string",
             "p.yaml:7:39: reviewed_at: \"2026-02-30\" is not a date YYYY-MM-DD",
             "p.yaml:7:64: next_review: \"2026/04/29\" is not a date YYYY-MM-DD"}));
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nreview: {reviewed_by: a, reviewed_at: "
                          "2028-02-29, next_review: 2027-01-01}\n"),
            Texts{"p.yaml:3:64: next_review 2027-01-01 is before reviewed_at 2028-02-29"});
  EXPECT_EQ(
      plugin_errors("plugin_id: x\ntier: t\nreview: {reviewed_by: a}\n"),
      (Texts{"p.yaml:3:9: review needs reviewed_at", "p.yaml:3:9: review needs next_review"}));
}

TEST(PolicyDocument, RefusesDuplicateKeys) {
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nquotas: {memory: 1MB, memory: 1GB}\n"
                          "tier: tier_1\n"),
            (Texts{"p.yaml:3:23: duplicate key \"memory\" in quotas (first at 3:10)",
                   "p.yaml:4:1: duplicate key \"tier\" in the plugin document (first at 2:1)"}));
  EXPECT_EQ(tier_errors("tiers:\n  t: {capabilities: []}\n  t: {capabilities: [log_emit]}\n"),
            Texts{"t.yaml:3:3: duplicate key \"t\" in tiers (first at 2:3)"});
}

TEST(PolicyDocument, RefusesMissingAndEmptyIdentity) {
  EXPECT_EQ(plugin_errors("plugin_id: \"\"\ntier: t\n"),
            Texts{"p.yaml:1:12: plugin_id: may not be empty"});
  EXPECT_EQ(plugin_errors("plugin_id:\ntier: t\n"),
            Texts{"p.yaml:1:1: plugin_id: expected a string, got nothing"});
  EXPECT_EQ(plugin_errors("source: s\n"), (Texts{"p.yaml: the plugin document has no plugin_id",
                                                 "p.yaml: the plugin document has no tier"}));
  EXPECT_EQ(plugin_errors(""), Texts{"p.yaml: the document is empty"});
  EXPECT_EQ(plugin_errors("plugin_id: a\n---\nplugin_id: b\n"),
            Texts{"p.yaml: a file holds one YAML document, this one holds more"});
}

TEST(PolicyDocument, PathsAndHostPatterns) {
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nquotas:\n"
                          "  allowed_hosts: [\"a b\", \"[ab].example.com\", \"\"]\n"
                          "  allowed_paths: {\"ro:/srv/../etc\": /etc, \"\": /x, /ok: [a]}\n"),
            (Texts{"p.yaml:4:19: allowed_hosts: \"a b\" is not a host pattern (a host name; * "
                   "and ? as globs)",
                   "p.yaml:4:26: allowed_hosts: \"[ab].example.com\" is not a host pattern (a "
                   "host name; * and ? as globs)",
                   "p.yaml:4:46: allowed_hosts entry: may not be empty",
                   "p.yaml:5:19: allowed_paths: \"ro:/srv/../etc\" is not a host directory "
                   "(empty, or with a .. component)",
                   "p.yaml:5:43: allowed_paths: \"\" is not a host directory (empty, or with a .. "
                   "component)",
                   "p.yaml:5:56: allowed_paths[/ok]: expected a string, got a list"}));
}

TEST(PolicyDocument, ReportsSyntaxErrorsWithTheirLocation) {
  EXPECT_EQ(tier_errors("tiers:\n  t: {capabilities: [log_emit}\n"),
            Texts{"t.yaml:2:30: YAML syntax error: illegal flow end"});
  EXPECT_EQ(tier_errors("tiers: *nothing\n"),
            Texts{"t.yaml:1:8: YAML syntax error: the referenced anchor is not defined"});
}

// ---- hostile documents: the policy's own consistency ---------------------------------------

TEST(PolicyDocument, PolicyConsistency) {
  EXPECT_EQ(tier_errors("default_tier: tier_9\n"
                        "tiers:\n"
                        "  a: {sources: [s, s], capabilities: []}\n"
                        "  b: {sources: [s], capabilities: [log_emit]}\n"),
            Texts{"t.yaml:3:20: sources: \"s\" is listed twice"});
  EXPECT_EQ(tier_errors("default_tier: tier_9\n"
                        "tiers:\n"
                        "  a: {sources: [s], capabilities: []}\n"
                        "  b: {sources: [r, s], capabilities: [log_emit]}\n"),
            (Texts{"t.yaml:1:15: default_tier: no tier is named \"tier_9\"",
                   "t.yaml:4:20: source \"s\" is listed by tier \"a\" and by tier \"b\""}));
  EXPECT_EQ(
      tier_errors("tiers:\n"
                  "  a:\n"
                  "    capabilities: [log_emit]\n"
                  "    resource_limits: {host_calls_per_second: {wasi_clock: 5, memory_only: 1}}\n"
                  "    supply_chain: {signature: required}\n"),
      (Texts{"t.yaml:5:31: supply_chain: signature: required needs at least one file in "
             "keys",
             "t.yaml:4:47: host_calls_per_second: wasi_clock is not granted by tier \"a\""}));
}

TEST(PolicyDocument, DuplicatePluginIds) {
  auto a = parse_plugin_document("plugin_id: dup\ntier: tier_3\n", "a.yaml");
  auto b = parse_plugin_document("\nplugin_id: dup\ntier: tier_3\n", "b.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(texts(check_documents(fixture_policy(), {a.value(), b.value()})),
            Texts{"b.yaml:2:12: duplicate plugin_id \"dup\" (also in a.yaml:1:12)"});
  TierPolicy built = fixture_policy();  // a policy built in code is checked too
  built.default_tier = "tier_0";
  built.tiers[1].sources.push_back("vendor-shipped");
  EXPECT_EQ(texts(check_documents(built, {})),
            (Texts{kTierFile + ":2:15: default_tier: no tier is named \"tier_0\"",
                   kTierFile + ": source \"vendor-shipped\" is listed by tier \"tier_1\" and by "
                               "tier \"tier_2\""}));
}

// ---- hostile documents: tier creep -------------------------------------------------------------

TEST(TierCreep, UnknownTier) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_9\n"),
            Texts{"p.yaml:2:7: plugin \"x\" claims tier \"tier_9\", which " + kTierFile +
                  " does not define"});
}

TEST(TierCreep, Capability) {
  EXPECT_EQ(creep("plugin_id: report-gen\ntier: tier_3\n"
                  "host_api_capabilities: [log_emit, memory_only, network_outbound_allowlist]\n"),
            Texts{"p.yaml:3:48: tier creep: plugin \"report-gen\" asks for "
                  "network_outbound_allowlist, which tier \"tier_3\" does not grant"});
}

TEST(TierCreep, EveryQuota) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_3\nquotas:\n"
                  "  memory: 64MiB\n"
                  "  cpu_seconds_per_call: 0.75\n"
                  "  concurrent_calls: 6\n"
                  "  max_log_bytes_per_call: 16385\n"
                  "  fuel_per_call: 1000000000000\n"),  // tier_3 leaves fuel unlimited
            (Texts{"p.yaml:4:11: tier creep: plugin \"x\" asks for memory 64 MiB, over tier "
                   "\"tier_3\"'s limit of 32 MB",
                   "p.yaml:5:25: tier creep: plugin \"x\" asks for cpu_seconds_per_call 0.75, over "
                   "tier \"tier_3\"'s limit of 0.5",
                   "p.yaml:6:21: tier creep: plugin \"x\" asks for concurrent_calls 6, over tier "
                   "\"tier_3\"'s limit of 5",
                   "p.yaml:7:27: tier creep: plugin \"x\" asks for max_log_bytes_per_call 16385 B, "
                   "over tier \"tier_3\"'s limit of 16 KiB"}));
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_1\nquotas:\n"
                  "  fuel_per_call: 1000000001\n"
                  "  timeout_ms: 5001\n"
                  "  max_output_bytes: 2MiB\n"
                  "  http_egress_bytes_per_call: 10000001\n"
                  "  memory: 512MB\n"),
            (Texts{"p.yaml:4:18: tier creep: plugin \"x\" asks for fuel_per_call 1000000001, over "
                   "tier \"tier_1\"'s limit of 1000000000",
                   "p.yaml:5:15: tier creep: plugin \"x\" asks for timeout_ms 5001, over tier "
                   "\"tier_1\"'s limit of 5000",
                   "p.yaml:6:21: tier creep: plugin \"x\" asks for max_output_bytes 2 MiB, over "
                   "tier \"tier_1\"'s limit of 1 MiB",
                   "p.yaml:7:31: tier creep: plugin \"x\" asks for http_egress_bytes_per_call "
                   "10000001 B, over tier \"tier_1\"'s limit of 10 MB"}));
}

TEST(TierCreep, HostCallRates) {
  EXPECT_EQ(
      creep("plugin_id: x\ntier: tier_1\nhost_api_capabilities: [log_emit]\n"
            "quotas: {host_calls_per_second: {log_emit: 1001, config_read: 5, wasi_clock: 1}}\n"),
      (Texts{"p.yaml:4:50: host_calls_per_second names config_read, which plugin \"x\" does "
             "not ask for",
             "p.yaml:4:34: tier creep: plugin \"x\" asks for "
             "host_calls_per_second[log_emit] 1001, over tier \"tier_1\"'s limit of 1000",
             "p.yaml:4:66: tier creep: plugin \"x\" asks for a host_calls_per_second rate "
             "for wasi_clock, which tier \"tier_1\" does not grant"}));
}

TEST(TierCreep, Hosts) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_1\nquotas:\n  allowed_hosts: [api.example.com, "
                  "API.Example.com, a.b.example.org, \"*.cdn.example.org\", \"*.example.org\", "
                  "\"*\", example.org, \"api.example.com.evil\", \"*example.org\"]\n"),
            (Texts{"p.yaml:4:108: tier creep: plugin \"x\" asks for allowed host \"*\", which no "
                   "allowed_hosts pattern of tier \"tier_1\" matches",
                   "p.yaml:4:113: tier creep: plugin \"x\" asks for allowed host \"example.org\", "
                   "which no allowed_hosts pattern of tier \"tier_1\" matches",
                   "p.yaml:4:126: tier creep: plugin \"x\" asks for allowed host "
                   "\"api.example.com.evil\", which no allowed_hosts pattern of tier \"tier_1\" "
                   "matches",
                   "p.yaml:4:150: tier creep: plugin \"x\" asks for allowed host \"*example.org\", "
                   "which no allowed_hosts pattern of tier \"tier_1\" matches"}));
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_3\nquotas: {allowed_hosts: [a.com]}\n"),
            Texts{"p.yaml:3:26: tier creep: plugin \"x\" asks for allowed host \"a.com\", which "
                  "tier \"tier_3\" does not allow (it allows no hosts)"});
}

TEST(TierCreep, Paths) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_1\nquotas:\n  allowed_paths:\n"
                  "    \"ro:/srv/assets/img\": /img\n"
                  "    \"/srv/assets/img\": /img2\n"
                  "    \"/srv/assetsx\": /x\n"
                  "    \"/var/lib/warden/scratch/p\": /s\n"
                  "    \"ro:/var/lib/warden\": /v\n"),
            (Texts{"p.yaml:6:5: tier creep: plugin \"x\" mounts \"/srv/assets/img\" writable, but "
                   "tier \"tier_1\" mounts \"/srv/assets\" read-only",
                   "p.yaml:7:5: tier creep: plugin \"x\" mounts \"/srv/assetsx\", which is not "
                   "beneath any allowed_paths directory of tier \"tier_1\"",
                   "p.yaml:9:5: tier creep: plugin \"x\" mounts \"/var/lib/warden\", which is not "
                   "beneath any allowed_paths directory of tier \"tier_1\""}));
}

TEST(TierCreep, TrustDecisions) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_3\nhost_api_capabilities: []\ntrust_decisions:\n"
                  "  - {capability: log_emit, rationale: r, risk: low}\n"
                  "  - {capability: wasi_env, rationale: r, risk: high}\n"),
            (Texts{"p.yaml:5:5: trust decision for log_emit, which plugin \"x\" does not ask for",
                   "p.yaml:6:5: tier creep: plugin \"x\" has a trust decision for wasi_env, which "
                   "tier \"tier_3\" does not grant"}));
}

TEST(TierCreep, SourceOfAnotherTier) {
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_1\nsource: customer-uploaded\n"
                  "host_api_capabilities: [log_emit]\n"),
            (Texts{"p.yaml:3:9: tier creep: plugin \"x\" from source \"customer-uploaded\" (tier "
                   "\"tier_3\") claims tier \"tier_1\", which also grants filesystem_read_assets",
                   "p.yaml:3:9: tier creep: plugin \"x\" from source \"customer-uploaded\" (tier "
                   "\"tier_3\") claims tier \"tier_1\", which also grants "
                   "network_outbound_allowlist",
                   "p.yaml:3:9: tier creep: plugin \"x\" from source \"customer-uploaded\" (tier "
                   "\"tier_3\") claims tier \"tier_1\", which also grants config_read"}));
  // A tier_1 source claiming tier_3 narrows: no error; an unlisted source is not checked.
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_3\nsource: vendor-shipped\n"), Texts{});
  EXPECT_EQ(creep("plugin_id: x\ntier: tier_1\nsource: somewhere-else\n"), Texts{});
}

// ---- hostile documents: robustness ---------------------------------------------------------

TEST(Hostile, DeepFlowNestingIsRefusedBeforeParsing) {
  EXPECT_EQ(tier_errors("tiers: " + std::string(100000, '[')),
            Texts{"t.yaml:1:72: YAML nested deeper than 64 levels"});
}

TEST(Hostile, NestingThePreScanMissesHitsYamlCppsGuard) {
  // The pre-scan takes the ' for a quote that never closes; yaml-cpp's own depth guard stops it.
  std::string doc = "a: x 'y\nb: " + std::string(50000, '[');
  EXPECT_EQ(tier_errors(doc), Texts{"t.yaml:2:1: YAML nested too deeply"});
  std::string block;
  for (int i = 0; i < 1400; ++i) block += std::string(i, ' ') + "k:\n";
  EXPECT_EQ(plugin_errors(block), Texts{"p.yaml:499:501: YAML nested too deeply"});
}

TEST(Hostile, OversizeDocumentsAreRefusedBeforeParsing) {
  std::string big = "plugin_id: x\ntier: t\n#" + std::string(kMaxDocumentBytes, 'x') + "\n";
  EXPECT_EQ(plugin_errors(big), Texts{"p.yaml: document is " + std::to_string(big.size()) +
                                      " bytes, over the limit of 1 MiB"});
  fs::path file = fs::temp_directory_path() / "warden_policy_oversize.yaml";
  { std::ofstream(file, std::ios::binary) << big; }
  EXPECT_EQ(errors_of(load_plugin_documents(file.string())),
            Texts{file.string() + ": document is " + std::to_string(big.size()) +
                  " bytes, over the limit of 1 MiB"});
  fs::remove(file);
  EXPECT_EQ(errors_of(load_tier_policy("/dev/zero")), Texts{"/dev/zero: not a readable file"});
  EXPECT_EQ(errors_of(load_tier_policy((kData / "missing.yaml").string())),
            Texts{(kData / "missing.yaml").string() + ": not a readable file"});
}

TEST(Hostile, BillionLaughsDoesNotExpand) {
  // Nine levels of ten aliases: 10^9 strings if expanded. The walk is by the document's shape,
  // so it stops at the first level that is not a list of strings.
  std::string doc = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) doc += ", " + prev;
    doc += "]\n";
  }
  std::string plugin = "x-anchors:\n";
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) plugin += "  " + line + "\n";
  plugin += "plugin_id: x\ntier: t\nhost_api_capabilities: *a9\n";
  auto errors = plugin_errors(plugin);
  ASSERT_EQ(errors.size(), 11u);
  EXPECT_EQ(errors[0], "p.yaml:1:1: unknown key \"x-anchors\" in the plugin document");
  for (size_t i = 1; i < errors.size(); ++i)
    EXPECT_EQ(errors[i], "p.yaml:10:7: host_api_capabilities entry: expected a string, got a list");
  EXPECT_LE(errors.size(), 101u);
}

TEST(Hostile, AliasAmplificationIsBoundedByTheNodeBudget) {
  // Well-typed amplification: 200 tiers aliasing one tier whose allowed_hosts are 1000 hosts.
  std::string doc = "hosts: &h [";
  for (int i = 0; i < 1000; ++i) doc += (i ? ", h" : "h") + std::to_string(i) + ".example.com";
  doc += "]\ntiers:\n  t0: &t {capabilities: [log_emit], resource_limits: {allowed_hosts: *h}}\n";
  for (int i = 1; i < 200; ++i) doc += "  t" + std::to_string(i) + ": *t\n";
  auto errors = tier_errors(doc);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().substr(errors.back().find(": document")),
            ": document too large: more than 100000 nodes (an alias counts each time it is used)");
}

TEST(Hostile, EscapesTextFromTheDocument) {
  EXPECT_EQ(plugin_errors("plugin_id: x\ntier: t\nhost_api_capabilities: [\"\\e[2Jlog\\u202e\"]\n"
                          "\"\\e]0;pwned\\a\": 1\n"),
            (Texts{"p.yaml:3:25: host_api_capabilities entry: unknown capability "
                   "\"\\x1b[2Jlog\\xe2\\x80\\xae\"",
                   "p.yaml:4:1: unknown key \"\\x1b]0;pwned\\x07\" in the plugin document"}));
  EXPECT_EQ(creep("plugin_id: \"\\e[31mred\"\ntier: \"tier_\\n9\"\n"),
            Texts{"p.yaml:2:7: plugin \"\\x1b[31mred\" claims tier \"tier_\\n9\", which " +
                  kTierFile + " does not define"});
}

// yaml-cpp 0.7's LoadAll looped forever (and without bound in memory) on this input, found by
// fuzz/policy_fuzzer; documents are now counted by a parser that stops at two.
TEST(Hostile, AnInputThatMadeYamlCppLoadAllLoopForeverIsRefused) {
  const std::string yaml =
      "{}\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      ",\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x03"
      "\x03"
      "\x03"
      "\x03"
      "\x03"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "log_\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\xde"
      "\xdd"
      "\xdd"
      "\xdd"
      "\xdd"
      "\xdd"
      "\xdd"
      "\xe5"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x22"
      "\x0a"
      "";
  auto result = parse_tier_policy(yaml, "loop.yaml");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().front().text(),
            "loop.yaml: a file holds one YAML document, this one holds more");
}

}  // namespace
}  // namespace warden::policy
