// Plugin signatures: an Ed25519 detached signature, a cosign-compatible ECDSA P-256 signature,
// or a DSSE envelope carrying a signed statement (name, version, sha256, capabilities). Verify
// and sign work on bytes the caller holds in memory, so what is verified is what is run.
// docs/signatures.md describes the formats and what is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decoder/result.h"
#include "hostabi/manifest.h"

namespace warden::policy {

// Input size limits: larger inputs are refused before anything is allocated for them.
inline constexpr size_t kMaxSignatureBytes = 1 << 20;  // a signature file or DSSE envelope
inline constexpr size_t kMaxPemBytes = 64 << 10;       // a public or private key PEM

struct SignatureError {
  enum class Kind {
    BadKey,        // a key PEM that is not an acceptable Ed25519 / P-256 key
    BadSignature,  // a signature file that is malformed (size, encoding, DER, JSON)
    BadStatement,  // a DSSE statement that is malformed or names another plugin
    UntrustedKey,  // signed by (or naming) no key the caller accepts
    Mismatch,      // well-formed, by an accepted key, but does not verify
    TooLarge,      // an input over its size limit
    Unreadable,    // a key file that cannot be read
    Unsupported,   // a format / key combination that cannot work (Ed25519 key for cosign)
  };
  Kind kind;
  std::string message;
};

enum class SignatureFormat { Ed25519, Cosign, Dsse };
// "ed25519" | "cosign" | "dsse"; anything else is nullopt.
std::optional<SignatureFormat> parse_signature_format(std::string_view name);
std::string_view signature_format_name(SignatureFormat format);

struct PublicKey {
  enum class Algorithm { Ed25519, EcdsaP256 } algorithm;
  std::string key_id;  // lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo
  std::vector<uint8_t> spki_der;
  std::string source;  // file name or label, for messages
};

// A "BEGIN PUBLIC KEY" PEM holding an Ed25519 or EC P-256 key; `source` names it in messages.
Result<PublicKey, SignatureError> parse_public_key_pem(std::string_view pem, std::string source);
// The same, from a file of at most kMaxPemBytes.
Result<PublicKey, SignatureError> read_public_key_file(const std::string& path);

// The DSSE payload: a JSON object with exactly these keys.
struct SignedStatement {
  std::string name, version, sha256;  // sha256: lowercase hex of the plugin bytes
  std::vector<std::string> capabilities;
};

struct Verified {
  PublicKey key;
  SignatureFormat format;
  std::optional<SignedStatement> statement;  // DSSE only
};

// Verifies `signature` over `plugin` against any of `keys`. `format` nullopt = detect: a DSSE
// envelope is a JSON object, 64 raw bytes are Ed25519, anything else is cosign's base64 text.
Result<Verified, SignatureError> verify_signature(
    std::span<const uint8_t> plugin, std::span<const uint8_t> signature,
    std::span<const PublicKey> keys, std::optional<SignatureFormat> format = std::nullopt);

// Signs `plugin` with a private key PEM (PKCS#8 Ed25519 or EC P-256, or "BEGIN EC PRIVATE KEY").
// Dsse needs `statement`; its sha256 is filled in from `plugin` when empty, and must match it
// otherwise. Returns the signature file's bytes (raw for Ed25519, base64 text for cosign, JSON
// for DSSE).
Result<std::vector<uint8_t>, SignatureError> sign_plugin(
    std::span<const uint8_t> plugin, std::string_view private_key_pem, SignatureFormat format,
    const SignedStatement* statement = nullptr);

// The public half of a private key PEM (as sign_plugin reads it): its algorithm and key id.
Result<PublicKey, SignatureError> private_key_public_part(std::string_view private_key_pem);

// Standard base64 with '=' padding, canonical (unused bits zero); nullopt when it is not. The
// decoder of every base64 a signature format holds (and of warden serve's X-Warden-Signature).
std::optional<std::vector<uint8_t>> base64_decode_strict(std::string_view text);

// Lowercase hex SHA-256: the one in hostabi (the manifest's "hash" uses it too).
using extism::sha256_hex;

// The DSSE payload type warden signs and accepts.
inline constexpr std::string_view kDssePayloadType = "application/vnd.warden.plugin+json";

}  // namespace warden::policy
