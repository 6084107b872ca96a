// warden sign / warden verify: plugin signatures from the command line (policy/signature.h).
// The plugin is read once; what is signed or verified is exactly those bytes.
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "decoder/untrusted_text.h"
#include "policy/signature.h"
#include "tools/cli.h"
#include "tools/command_line.h"

namespace warden::cli {
namespace {

constexpr const char* kSignHelp =
    R"help(usage: warden sign --key PRIVATE.pem [--format ed25519|cosign|dsse]
                   [--name N --version V [--capabilities a,b,...]] [-o SIG] PLUGIN

Signs the bytes of PLUGIN and writes the signature to SIG, or to standard output.

  --key FILE          the private key, PEM: PKCS#8 Ed25519 or EC P-256 ("BEGIN PRIVATE KEY"),
                      or "BEGIN EC PRIVATE KEY"
  --format F          ed25519: 64 raw bytes over the plugin (an Ed25519 key);
                      cosign:  base64 of a DER ECDSA signature over SHA-256 of the plugin, as
                               `cosign sign-blob --key` makes (an EC P-256 key);
                      dsse:    a DSSE envelope whose signed statement binds --name, --version,
                               the plugin's SHA-256 and --capabilities (either key)
                      default: dsse when --name is given, else ed25519 for an Ed25519 key and
                      cosign for an EC key
  --name N            the plugin's name in the statement (dsse)
  --version V         its version (dsse)
  --capabilities L    comma-separated capabilities the publisher signs for (dsse); a policy
                      grants a DSSE-signed plugin no capability outside this list
  -o, --output SIG    write the signature to SIG (replaced atomically) instead of stdout
  -h, --help          show this help

The key's ID (SHA-256 of its DER SubjectPublicKeyInfo) is printed on standard error; a tier
policy accepts the public key by listing its PEM file under supply_chain.keys.
docs/signatures.md describes the formats.

exit status: 0 signed, 1 when the key or plugin cannot be read or cannot sign in that format,
2 for usage errors.
)help";

constexpr const char* kVerifyHelp =
    R"help(usage: warden verify --key PUBLIC.pem [--key PUBLIC.pem ...] --signature SIG
                     [--format ed25519|cosign|dsse] PLUGIN

Verifies SIG over the bytes of PLUGIN with any of the given public keys (PEM, "BEGIN PUBLIC
KEY": Ed25519 or EC P-256).

  --key FILE          an accepted public key; repeat to accept several
  --signature SIG     the signature file: 64 raw bytes (ed25519), base64 text (cosign), or a
                      DSSE envelope (JSON)
  --format F          ed25519, cosign or dsse; default: detected from the signature (a JSON
                      object is dsse, 64 bytes are ed25519, anything else cosign)
  -h, --help          show this help

On success prints "verified: FORMAT signature by key KEYID (FILE)" and, for a DSSE envelope,
the signed name, version, sha256 and capabilities. docs/signatures.md describes the formats
and every refusal.

exit status: 0 verified, 1 not verified (the reason is printed) or unreadable input, 2 for
usage errors.
)help";

// --format NAME (empty: not given) into `format`; a usage message when NAME is unknown.
std::optional<std::string> format_option(const std::string& name,
                                         std::optional<policy::SignatureFormat>& format) {
  if (name.empty()) return std::nullopt;
  format = policy::parse_signature_format(name);
  if (format) return std::nullopt;
  return "unknown format '" + escape_untrusted(name) + "' (ed25519, cosign or dsse)";
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

// Writes through a temporary file next to `path` and renames it, so a failed write never leaves
// a truncated signature where a good one was.
bool write_atomically(const std::string& path, std::span<const uint8_t> bytes,
                      std::string& reason) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      reason = std::strerror(errno);
      return false;
    }
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      reason = std::strerror(errno);
      std::filesystem::remove(temporary);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    reason = ec.message();
    std::filesystem::remove(temporary, ec);
    return false;
  }
  return true;
}

}  // namespace

int sign_command(const std::vector<std::string>& args) {
  std::string key_file, output, format_name;
  std::optional<std::string> name_given, version_given, capabilities_given;
  CommandLine cl("sign", kSignHelp);
  cl.app.add_option("--key", key_file);
  cl.app.add_option("--format", format_name);
  cl.app.add_option("--name", name_given);
  cl.app.add_option("--version", version_given);
  cl.app.add_option("--capabilities", capabilities_given);
  cl.app.add_option("-o,--output", output);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  const std::vector<std::string>& positional = parsed.positionals;
  const bool have_name = name_given.has_value(), have_version = version_given.has_value(),
             have_capabilities = capabilities_given.has_value();
  const std::string name = name_given.value_or(""), version = version_given.value_or(""),
                    capabilities = capabilities_given.value_or("");
  if (positional.size() != 1) return usage_error("sign", "expected one PLUGIN");
  if (key_file.empty()) return usage_error("sign", "--key PRIVATE.pem is required");
  std::optional<policy::SignatureFormat> format;
  if (auto problem = format_option(format_name, format)) return usage_error("sign", *problem);
  const bool statement_given = have_name || have_version || have_capabilities;
  if (statement_given && format && *format != policy::SignatureFormat::Dsse)
    return usage_error("sign", "--name, --version and --capabilities belong to --format dsse");
  if (statement_given || format == policy::SignatureFormat::Dsse) {
    if (!have_name || !have_version || name.empty() || version.empty())
      return usage_error("sign", "a DSSE statement needs --name and --version");
    format = policy::SignatureFormat::Dsse;
  }

  std::vector<uint8_t> key_pem;
  if (std::string reason; !read_file(key_file, key_pem, reason, policy::kMaxPemBytes)) {
    fmt::print(stderr, "error: {}: cannot read: {}\n", escape_untrusted(key_file), reason);
    return kExitFailure;
  }
  const std::string_view pem(reinterpret_cast<const char*>(key_pem.data()), key_pem.size());
  auto public_part = policy::private_key_public_part(pem);
  if (!public_part) {
    fmt::print(stderr, "error: {}: {}\n", escape_untrusted(key_file), public_part.error().message);
    return kExitFailure;
  }
  if (!format)
    format = public_part->algorithm == policy::PublicKey::Algorithm::Ed25519
                 ? policy::SignatureFormat::Ed25519
                 : policy::SignatureFormat::Cosign;
  // Raw Ed25519 bytes on a terminal are garbage and lost: ask for a file.
  if (output.empty() && *format == policy::SignatureFormat::Ed25519 && ::isatty(STDOUT_FILENO))
    return usage_error("sign",
                       "an ed25519 signature is binary: redirect standard output or use -o");

  const std::string& plugin_file = positional[0];
  std::vector<uint8_t> plugin;
  if (std::string reason; !read_file(plugin_file, plugin, reason)) {
    fmt::print(stderr, "error: {}: cannot read: {}\n", escape_untrusted(plugin_file), reason);
    return kExitFailure;
  }
  policy::SignedStatement statement;
  if (*format == policy::SignatureFormat::Dsse)
    statement = {name, version, "", split_list(capabilities)};
  auto signature = policy::sign_plugin(
      plugin, pem, *format, *format == policy::SignatureFormat::Dsse ? &statement : nullptr);
  if (!signature) {
    fmt::print(stderr, "error: {}\n", signature.error().message);
    return kExitFailure;
  }
  if (output.empty()) {
    if (std::fwrite(signature->data(), 1, signature->size(), stdout) != signature->size() ||
        std::fflush(stdout) != 0) {
      fmt::print(stderr, "error: cannot write the signature: {}\n", std::strerror(errno));
      return kExitFailure;
    }
  } else if (std::string reason; !write_atomically(output, *signature, reason)) {
    fmt::print(stderr, "error: {}: cannot write: {}\n", escape_untrusted(output), reason);
    return kExitFailure;
  }
  fmt::print(stderr, "signed: {} signature by key {} over {} (sha256 {})\n",
             policy::signature_format_name(*format), public_part->key_id,
             escape_untrusted(plugin_file), policy::sha256_hex(plugin));
  return kExitOk;
}

int verify_command(const std::vector<std::string>& args) {
  std::vector<std::string> key_files;
  std::string signature_file, format_name;
  CommandLine cl("verify", kVerifyHelp);
  cl.add_list("--key", key_files);
  cl.app.add_option("--signature", signature_file);
  cl.app.add_option("--format", format_name);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  const std::vector<std::string>& positional = parsed.positionals;
  if (positional.size() != 1) return usage_error("verify", "expected one PLUGIN");
  if (key_files.empty()) return usage_error("verify", "--key PUBLIC.pem is required");
  if (signature_file.empty()) return usage_error("verify", "--signature SIG is required");
  std::optional<policy::SignatureFormat> format;
  if (auto problem = format_option(format_name, format)) return usage_error("verify", *problem);

  std::vector<policy::PublicKey> keys;
  for (const std::string& file : key_files) {
    auto key = policy::read_public_key_file(file);
    if (!key) {
      fmt::print(stderr, "error: {}\n", key.error().message);
      return kExitFailure;
    }
    keys.push_back(std::move(*key));
  }
  std::vector<uint8_t> signature, plugin;
  if (std::string reason;
      !read_file(signature_file, signature, reason, policy::kMaxSignatureBytes)) {
    fmt::print(stderr, "error: {}: cannot read: {}\n", escape_untrusted(signature_file), reason);
    return kExitFailure;
  }
  const std::string& plugin_file = positional[0];
  if (std::string reason; !read_file(plugin_file, plugin, reason)) {
    fmt::print(stderr, "error: {}: cannot read: {}\n", escape_untrusted(plugin_file), reason);
    return kExitFailure;
  }
  auto verified = policy::verify_signature(plugin, signature, keys, format);
  if (!verified) {
    fmt::print(stderr, "error: {}: {}\n", escape_untrusted(plugin_file), verified.error().message);
    return kExitFailure;
  }
  fmt::print("verified: {} signature by key {} ({})\n",
             policy::signature_format_name(verified->format), verified->key.key_id,
             escape_untrusted(verified->key.source));
  if (verified->statement) {
    const policy::SignedStatement& s = *verified->statement;
    std::string caps;
    for (const std::string& c : s.capabilities)
      caps += (caps.empty() ? "" : ", ") + quote_untrusted(c);
    fmt::print("statement: name {}, version {}, sha256 {}\ncapabilities: [{}]\n",
               quote_untrusted(s.name), quote_untrusted(s.version), s.sha256, caps);
  }
  return kExitOk;
}

}  // namespace warden::cli
