// Plugin signatures with OpenSSL 3: key parsing (strict PEM, canonical DER, Ed25519 point checks),
// the three signature formats, and signing. Every check that refuses input lives here, once.
#include "policy/signature.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "decoder/untrusted_text.h"

namespace warden::policy {
namespace {

using json = nlohmann::json;
using Kind = SignatureError::Kind;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;

constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kShown = 80;  // bytes of untrusted text shown in a message

Failure<SignatureError> fail(Kind kind, std::string message) {
  ERR_clear_error();  // OpenSSL's queue holds nothing a caller could use
  return Failure{SignatureError{kind, std::move(message)}};
}

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string describe_key(const PublicKey& key) {
  return "key " + key.key_id + " (" + escape_untrusted(key.source, kShown) + ")";
}

// ---- base64: standard alphabet, '=' padding, canonical (unused bits zero). ----

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string base64_encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = static_cast<uint32_t>(bytes[i]) << 16;
    if (n > 1) group |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) group |= bytes[i + 2];
    for (size_t j = 0; j < 4; ++j) out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

// ---- PEM (RFC 7468, strict): text before BEGIN and after END is ignored. ----

Result<std::vector<uint8_t>, SignatureError> pem_body(std::string_view pem, std::string_view label,
                                                      const std::string& source) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  const std::string where = escape_untrusted(source, kShown);
  const size_t at = pem.find(begin);
  if (at == std::string_view::npos) {
    const size_t other = pem.find("-----BEGIN ");
    if (other != std::string_view::npos) {
      const size_t stop = pem.find("-----", other + 11);
      const std::string_view found =
          pem.substr(other + 11, stop == pem.npos ? 0 : stop - other - 11);
      return fail(Kind::BadKey, where + ": holds a " + quote_untrusted(found, kShown) +
                                    " PEM block, not " + quote_untrusted(begin));
    }
    return fail(Kind::BadKey, where + ": no " + quote_untrusted(begin) + " line: not a PEM key");
  }
  std::string_view rest = pem.substr(at + begin.size());
  std::string base64;
  for (int line = 1;; ++line) {
    if (rest.empty())
      return fail(Kind::BadKey, where + ": truncated PEM: no " + quote_untrusted(end) + " line");
    const size_t nl = rest.find('\n');
    std::string_view text = rest.substr(0, nl);
    rest = nl == rest.npos ? std::string_view() : rest.substr(nl + 1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (line == 1) {
      if (!text.empty())
        return fail(Kind::BadKey,
                    where + ": text after " + quote_untrusted(begin) + " on its line");
      continue;
    }
    if (text.starts_with(end)) break;
    for (char c : text)
      if (base64_value(c) < 0 && c != '=')
        return fail(Kind::BadKey, where + ": PEM line " + std::to_string(line) +
                                      " is not base64: " + quote_untrusted(text, kShown));
    base64 += text;
  }
  auto der = base64_decode_strict(base64);
  if (!der || der->empty())
    return fail(Kind::BadKey, where +
                                  ": the PEM body is not canonical base64 (truncated or "
                                  "padded wrongly)");
  return std::move(*der);
}

// ---- Ed25519 point checks, in the field of p = 2^255 - 19 with OpenSSL's BIGNUM. ----

struct Edwards {
  BnCtxPtr ctx{BN_CTX_new()};
  BnPtr p{BN_new()}, d{BN_new()};
  Edwards() {
    BN_set_bit(p.get(), 255);
    BN_sub_word(p.get(), 19);
    BnPtr num(BN_new()), den(BN_new());  // d = -121665 / 121666
    BN_set_word(num.get(), 121665);
    BN_sub(num.get(), p.get(), num.get());
    BN_set_word(den.get(), 121666);
    BN_mod_inverse(den.get(), den.get(), p.get(), ctx.get());
    BN_mod_mul(d.get(), num.get(), den.get(), p.get(), ctx.get());
  }
  BnPtr mul(const BIGNUM* a, const BIGNUM* b) {
    BnPtr r(BN_new());
    BN_mod_mul(r.get(), a, b, p.get(), ctx.get());
    return r;
  }
  BnPtr add(const BIGNUM* a, const BIGNUM* b) {
    BnPtr r(BN_new());
    BN_mod_add(r.get(), a, b, p.get(), ctx.get());
    return r;
  }
  BnPtr sub(const BIGNUM* a, const BIGNUM* b) {
    BnPtr r(BN_new());
    BN_mod_sub(r.get(), a, b, p.get(), ctx.get());
    return r;
  }
  BnPtr div(const BIGNUM* a, const BIGNUM* b) {
    BnPtr inv(BN_mod_inverse(nullptr, b, p.get(), ctx.get()));
    if (!inv) return nullptr;
    return mul(a, inv.get());
  }
  // P + P with the complete twisted Edwards addition law (a = -1): no special cases.
  bool twice(BnPtr& x, BnPtr& y) {
    BnPtr one(BN_new());
    BN_one(one.get());
    BnPtr xx = mul(x.get(), x.get()), yy = mul(y.get(), y.get()), xy = mul(x.get(), y.get());
    BnPtr t = mul(d.get(), mul(xx.get(), yy.get()).get());
    BnPtr x3 = div(add(xy.get(), xy.get()).get(), add(one.get(), t.get()).get());
    BnPtr y3 = div(add(yy.get(), xx.get()).get(), sub(one.get(), t.get()).get());
    if (!x3 || !y3) return false;
    x = std::move(x3);
    y = std::move(y3);
    return true;
  }
};

// Why a 32-byte Ed25519 public key is refused, or nullopt: a non-canonical encoding, a value
// that is no curve point, or a point of small order (8P = identity), whose signatures say
// nothing about a private key.
std::optional<std::string> ed25519_key_problem(std::span<const uint8_t> encoded) {
  Edwards e;
  std::array<uint8_t, kEd25519KeyBytes> le;
  std::copy(encoded.begin(), encoded.end(), le.begin());
  const bool sign = le[31] >> 7;
  le[31] &= 0x7f;
  BnPtr y(BN_lebin2bn(le.data(), static_cast<int>(le.size()), nullptr));
  if (BN_cmp(y.get(), e.p.get()) >= 0) return "a non-canonical encoding (y >= 2^255-19)";
  BnPtr one(BN_new());
  BN_one(one.get());
  BnPtr yy = e.mul(y.get(), y.get());
  BnPtr x2 = e.div(e.sub(yy.get(), one.get()).get(),
                   e.add(e.mul(e.d.get(), yy.get()).get(), one.get()).get());
  if (!x2) return "not a point on the curve";
  BnPtr x(BN_mod_sqrt(nullptr, x2.get(), e.p.get(), e.ctx.get()));
  if (!x) return "not a point on the curve";
  if (BN_is_zero(x.get()) && sign) return "a non-canonical encoding (negative zero x)";
  if (BN_is_odd(x.get()) != sign) BN_sub(x.get(), e.p.get(), x.get());
  for (int i = 0; i < 3; ++i)
    if (!e.twice(x, y)) return "not a point on the curve";
  if (BN_is_zero(x.get()) && BN_is_one(y.get()))
    return "a point of small order (it verifies forged signatures)";
  return std::nullopt;
}

// ---- keys ----

std::vector<uint8_t> spki_of(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) return {};
  std::vector<uint8_t> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

// The key's algorithm if it is one warden accepts, else why not.
Result<PublicKey::Algorithm, std::string> key_algorithm(EVP_PKEY* pkey) {
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_ED25519) return PublicKey::Algorithm::Ed25519;
  if (id == EVP_PKEY_EC) {
    char group[64] = {};
    size_t length = 0;
    if (!EVP_PKEY_get_group_name(pkey, group, sizeof group, &length))
      return Failure{std::string("an EC key without a named curve; warden accepts P-256 only")};
    if (std::string_view(group) != "prime256v1")
      return Failure{"an EC key on curve " + std::string(group) + "; warden accepts P-256 only"};
    return PublicKey::Algorithm::EcdsaP256;
  }
  const char* name = id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ? "RSA" : OBJ_nid2sn(id);
  return Failure{std::string("a ") + (name ? name : "unknown") +
                 " key; warden accepts Ed25519 or EC P-256 keys"};
}

PkeyPtr load_public(const PublicKey& key) {
  const unsigned char* p = key.spki_der.data();
  return PkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(key.spki_der.size())));
}

Result<PkeyPtr, SignatureError> load_private(std::string_view pem) {
  if (pem.size() > kMaxPemBytes)
    return fail(Kind::TooLarge, "the private key PEM is " + std::to_string(pem.size()) +
                                    " bytes; the limit is " + std::to_string(kMaxPemBytes));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // No passphrase prompt: an encrypted key fails here instead of reading the terminal.
  auto no_password = [](char*, int, int, void*) { return 0; };
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!pkey)
    return fail(Kind::BadKey,
                "the private key is not an unencrypted PEM private key "
                "(BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY)");
  auto algorithm = key_algorithm(pkey.get());
  if (!algorithm) return fail(Kind::BadKey, "the private key is " + algorithm.error());
  return pkey;
}

// ---- signature primitives ----

const BIGNUM* p256_order() {
  static EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  return EC_GROUP_get0_order(group.get());
}

// A DER ECDSA signature that is canonical (re-encodes to the same bytes) and low-S.
Result<void, SignatureError> check_ecdsa_der(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return fail(Kind::BadSignature, "the ECDSA signature is not DER (SEQUENCE of r, s)");
  unsigned char* again = nullptr;
  const int n = i2d_ECDSA_SIG(sig.get(), &again);
  const bool same =
      n > 0 && static_cast<size_t>(n) == der.size() && std::equal(der.begin(), der.end(), again);
  OPENSSL_free(again);
  if (!same)
    return fail(Kind::BadSignature, "the ECDSA signature is not canonical DER (" +
                                        std::to_string(der.size()) +
                                        " bytes; a minimal "
                                        "encoding, no padding, no trailing bytes, is required)");
  BnPtr half(BN_dup(p256_order()));
  BN_rshift1(half.get(), half.get());
  if (BN_cmp(ECDSA_SIG_get0_s(sig.get()), half.get()) > 0)
    return fail(Kind::BadSignature,
                "the ECDSA signature is high-S (s > n/2): warden accepts only "
                "the low-S form; replace s by n - s or re-sign with warden sign");
  return {};
}

// 1 = verifies, 0 = does not. The message is `message` itself for Ed25519, SHA-256 of it for ECDSA.
bool verify_raw(const PublicKey& key, std::span<const uint8_t> sig,
                std::span<const uint8_t> message) {
  PkeyPtr pkey = load_public(key);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = key.algorithm == PublicKey::Algorithm::Ed25519 ? nullptr : EVP_sha256();
  const bool ok =
      pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

// A key's signature in the form each format stores: 64 raw bytes, or canonical low-S DER.
Result<std::vector<uint8_t>, SignatureError> sign_raw(EVP_PKEY* pkey,
                                                      std::span<const uint8_t> message) {
  const bool ed = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, ed ? nullptr : EVP_sha256(), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) != 1)
    return fail(Kind::BadKey, "OpenSSL cannot sign with this key");
  std::vector<uint8_t> sig(length);
  if (EVP_DigestSign(ctx.get(), sig.data(), &length, message.data(), message.size()) != 1)
    return fail(Kind::BadKey, "OpenSSL cannot sign with this key");
  sig.resize(length);
  if (ed) return sig;
  const unsigned char* p = sig.data();
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  const BIGNUM* s = ECDSA_SIG_get0_s(parsed.get());
  BnPtr half(BN_dup(p256_order()));
  BN_rshift1(half.get(), half.get());
  if (BN_cmp(s, half.get()) > 0) {  // normalise to low-S, which verifiers like ours require
    BIGNUM* low = BN_new();
    BN_sub(low, p256_order(), s);
    ECDSA_SIG_set0(parsed.get(), BN_dup(ECDSA_SIG_get0_r(parsed.get())), low);
  }
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(parsed.get(), &der);
  std::vector<uint8_t> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string algorithm_name(PublicKey::Algorithm a) {
  return a == PublicKey::Algorithm::Ed25519 ? "Ed25519" : "ECDSA P-256";
}

// Tries every key of `algorithm`; the first that verifies wins.
Result<Verified, SignatureError> verify_with_any(std::span<const PublicKey> keys,
                                                 PublicKey::Algorithm algorithm,
                                                 SignatureFormat format,
                                                 std::span<const uint8_t> sig,
                                                 std::span<const uint8_t> message) {
  std::string tried;
  for (const PublicKey& key : keys) {
    if (key.algorithm != algorithm) continue;
    if (verify_raw(key, sig, message)) return Verified{key, format, std::nullopt};
    tried += (tried.empty() ? "" : ", ") + describe_key(key);
  }
  if (tried.empty())
    return fail(Kind::UntrustedKey, "an " + std::string(signature_format_name(format)) +
                                        " signature needs an " + algorithm_name(algorithm) +
                                        " key, and none was given");
  return fail(Kind::Mismatch, "the " + std::string(signature_format_name(format)) +
                                  " signature does not verify with " + tried +
                                  ": the plugin was changed, or it was signed by another key");
}

// ---- DSSE ----

std::string pae(std::string_view type, std::string_view body) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " +
         std::to_string(body.size()) + " " + std::string(body);
}

// JSON with duplicate keys refused (parsers disagree on which one wins) and a small depth bound.
std::optional<json> parse_json_strict(std::string_view text) {
  std::vector<std::set<std::string>> open;
  bool bad = false;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > 8) bad = true;
    if (event == json::parse_event_t::object_start) open.emplace_back();
    if (event == json::parse_event_t::object_end && !open.empty()) open.pop_back();
    if (event == json::parse_event_t::key && !open.empty() &&
        !open.back().insert(parsed.get<std::string>()).second)
      bad = true;
    return !bad;
  };
  json value = json::parse(text, callback, /*allow_exceptions=*/false);
  if (bad || value.is_discarded()) return std::nullopt;
  return value;
}

Result<void, SignatureError> only_keys(const json& object, std::string_view what,
                                       std::initializer_list<std::string_view> known,
                                       std::initializer_list<std::string_view> required,
                                       Kind kind) {
  if (!object.is_object()) return fail(kind, std::string(what) + " is not a JSON object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      return fail(kind, std::string(what) + " has an unknown key " + quote_untrusted(key, kShown));
  }
  for (std::string_view key : required)
    if (!object.contains(key))
      return fail(kind, std::string(what) + " has no \"" + std::string(key) + "\"");
  return {};
}

bool is_lower_hex_sha256(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == s.npos;
}

Result<SignedStatement, SignatureError> parse_statement(std::string_view payload) {
  auto value = parse_json_strict(payload);
  if (!value)
    return fail(Kind::BadStatement, "the DSSE payload is not JSON (or has duplicate keys)");
  if (auto ok =
          only_keys(*value, "the DSSE statement", {"name", "version", "sha256", "capabilities"},
                    {"name", "version", "sha256", "capabilities"}, Kind::BadStatement);
      !ok)
    return Failure{ok.take_error()};
  SignedStatement s;
  for (auto [key, out] :
       {std::pair{"name", &s.name}, {"version", &s.version}, {"sha256", &s.sha256}}) {
    const json& field = (*value)[key];
    if (!field.is_string() || field.get_ref<const std::string&>().empty())
      return fail(Kind::BadStatement,
                  std::string("the DSSE statement's \"") + key + "\" is not a non-empty string");
    *out = field.get<std::string>();
  }
  if (!is_lower_hex_sha256(s.sha256))
    return fail(Kind::BadStatement, "the DSSE statement's \"sha256\" " +
                                        quote_untrusted(s.sha256, kShown) +
                                        " is not 64 lowercase hex digits");
  const json& caps = (*value)["capabilities"];
  if (!caps.is_array())
    return fail(Kind::BadStatement, "the DSSE statement's \"capabilities\" is not a list");
  for (const json& c : caps) {
    if (!c.is_string())
      return fail(Kind::BadStatement, "the DSSE statement's \"capabilities\" has a non-string");
    s.capabilities.push_back(c.get<std::string>());
  }
  return s;
}

Result<std::string, SignatureError> string_field(const json& object, const char* key,
                                                 std::string_view what) {
  const json& v = object[key];
  if (!v.is_string())
    return fail(Kind::BadSignature, std::string(what) + "'s \"" + key + "\" is not a string");
  return v.get<std::string>();
}

Result<Verified, SignatureError> verify_dsse(std::span<const uint8_t> plugin,
                                             std::span<const uint8_t> envelope_bytes,
                                             std::span<const PublicKey> keys) {
  auto envelope = parse_json_strict(as_text(envelope_bytes));
  if (!envelope)
    return fail(Kind::BadSignature, "the DSSE envelope is not JSON (or has duplicate keys)");
  if (auto ok = only_keys(*envelope, "the DSSE envelope", {"payloadType", "payload", "signatures"},
                          {"payloadType", "payload", "signatures"}, Kind::BadSignature);
      !ok)
    return Failure{ok.take_error()};
  auto type = string_field(*envelope, "payloadType", "the DSSE envelope");
  if (!type) return Failure{type.take_error()};
  if (*type != kDssePayloadType)
    return fail(Kind::BadSignature, "the DSSE payloadType is " + quote_untrusted(*type, kShown) +
                                        "; warden accepts only \"" + std::string(kDssePayloadType) +
                                        "\"");
  auto payload_text = string_field(*envelope, "payload", "the DSSE envelope");
  if (!payload_text) return Failure{payload_text.take_error()};
  auto payload = base64_decode_strict(*payload_text);
  if (!payload)
    return fail(Kind::BadSignature, "the DSSE payload is not standard base64 with padding");
  const json& entries = (*envelope)["signatures"];
  if (!entries.is_array() || entries.empty())
    return fail(Kind::BadSignature, "the DSSE envelope's \"signatures\" is not a non-empty list");

  const std::string signed_bytes = pae(*type, as_text(*payload));
  std::string unknown_ids, tried;
  for (const json& entry : entries) {
    if (auto ok = only_keys(entry, "a DSSE signature entry", {"keyid", "sig"}, {"sig"},
                            Kind::BadSignature);
        !ok)
      return Failure{ok.take_error()};
    auto sig_text = string_field(entry, "sig", "a DSSE signature entry");
    if (!sig_text) return Failure{sig_text.take_error()};
    auto sig = base64_decode_strict(*sig_text);
    if (!sig) return fail(Kind::BadSignature, "a DSSE \"sig\" is not standard base64 with padding");
    std::optional<std::string> keyid;
    if (entry.contains("keyid")) {
      auto id = string_field(entry, "keyid", "a DSSE signature entry");
      if (!id) return Failure{id.take_error()};
      keyid = std::move(*id);
    }
    bool named = false;
    for (const PublicKey& key : keys) {
      if (keyid && !keyid->empty() && *keyid != key.key_id) continue;
      named = true;
      const bool ed = key.algorithm == PublicKey::Algorithm::Ed25519;
      if (ed && sig->size() != kEd25519SignatureBytes) {
        if (keyid && !keyid->empty())
          return fail(Kind::BadSignature, "the DSSE signature by " + describe_key(key) + " is " +
                                              std::to_string(sig->size()) +
                                              " bytes; an Ed25519 signature is 64");
        continue;
      }
      if (!ed) {
        auto ok = check_ecdsa_der(*sig);
        if (!ok && keyid && !keyid->empty()) return Failure{ok.take_error()};
        if (!ok) continue;
      }
      if (verify_raw(key, *sig, as_bytes(signed_bytes))) {
        auto statement = parse_statement(as_text(*payload));
        if (!statement) return Failure{statement.take_error()};
        const std::string actual = sha256_hex(plugin);
        if (statement->sha256 != actual)
          return fail(Kind::BadStatement, "the DSSE statement (signed by " + describe_key(key) +
                                              ") is for another plugin: it names sha256 " +
                                              statement->sha256 + ", the plugin's is " + actual);
        return Verified{key, SignatureFormat::Dsse, std::move(*statement)};
      }
      tried += (tried.empty() ? "" : ", ") + describe_key(key);
    }
    if (!named && keyid)
      unknown_ids += (unknown_ids.empty() ? "" : ", ") + quote_untrusted(*keyid, kShown);
  }
  if (tried.empty())
    return fail(Kind::UntrustedKey,
                "the DSSE envelope is signed by key " +
                    (unknown_ids.empty() ? std::string("(no key id)") : unknown_ids) +
                    ", which is not among the accepted keys");
  return fail(Kind::Mismatch, "no DSSE signature verifies with " + tried +
                                  ": the envelope was changed, or signed by another key");
}

Result<Verified, SignatureError> verify_cosign(std::span<const uint8_t> plugin,
                                               std::span<const uint8_t> signature,
                                               std::span<const PublicKey> keys) {
  std::string_view text = as_text(signature);
  if (text.ends_with("\n")) text.remove_suffix(1);
  auto der = base64_decode_strict(text);
  if (!der)
    return fail(Kind::BadSignature,
                "the cosign signature is not one line of standard base64 "
                "with padding (" +
                    std::to_string(signature.size()) + " bytes)");
  if (auto ok = check_ecdsa_der(*der); !ok) return Failure{ok.take_error()};
  return verify_with_any(keys, PublicKey::Algorithm::EcdsaP256, SignatureFormat::Cosign, *der,
                         plugin);
}

// The format of a signature file: 64 bytes are Ed25519 (a DSSE envelope is much longer), a JSON
// object is DSSE, base64 text is cosign, other bytes are an Ed25519 signature of the wrong size.
SignatureFormat detect_format(std::span<const uint8_t> signature) {
  if (signature.size() == kEd25519SignatureBytes) return SignatureFormat::Ed25519;
  std::string_view text = as_text(signature);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != text.npos && text[first] == '{') return SignatureFormat::Dsse;
  if (text.ends_with("\n")) text.remove_suffix(1);
  const bool base64 = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return base64_value(c) >= 0 || c == '=';
  });
  return base64 ? SignatureFormat::Cosign : SignatureFormat::Ed25519;
}

}  // namespace

std::optional<std::vector<uint8_t>> base64_decode_strict(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
    uint32_t group = 0;
    for (size_t j = 0; j < 4 - pad; ++j) {
      const int v = base64_value(text[i + j]);
      if (v < 0) return std::nullopt;
      group = group << 6 | static_cast<uint32_t>(v);
    }
    group <<= 6 * pad;
    if (pad == 2 && (group & 0xffff) != 0) return std::nullopt;  // non-canonical tail bits
    if (pad == 1 && (group & 0xff) != 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(group >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(group >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(group));
  }
  return out;
}

std::optional<SignatureFormat> parse_signature_format(std::string_view name) {
  if (name == "ed25519") return SignatureFormat::Ed25519;
  if (name == "cosign") return SignatureFormat::Cosign;
  if (name == "dsse") return SignatureFormat::Dsse;
  return std::nullopt;
}

std::string_view signature_format_name(SignatureFormat format) {
  switch (format) {
    case SignatureFormat::Ed25519: return "ed25519";
    case SignatureFormat::Cosign: return "cosign";
    case SignatureFormat::Dsse: return "dsse";
  }
  return "?";
}

Result<PublicKey, SignatureError> parse_public_key_pem(std::string_view pem, std::string source) {
  const std::string where = escape_untrusted(source, kShown);
  if (pem.size() > kMaxPemBytes)
    return fail(Kind::TooLarge, where + ": the key PEM is " + std::to_string(pem.size()) +
                                    " bytes; the limit is " + std::to_string(kMaxPemBytes));
  auto der = pem_body(pem, "PUBLIC KEY", source);
  if (!der) return Failure{der.take_error()};
  const unsigned char* p = der->data();
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (!pkey) return fail(Kind::BadKey, where + ": the PEM body is not a SubjectPublicKeyInfo");
  auto algorithm = key_algorithm(pkey.get());
  if (!algorithm) return fail(Kind::BadKey, where + ": " + algorithm.error());
  PublicKey key{*algorithm, "", spki_of(pkey.get()), std::move(source)};
  if (key.spki_der != *der)
    return fail(Kind::BadKey, where +
                                  ": the key's DER is not canonical (trailing bytes or a "
                                  "non-minimal encoding)");
  if (key.algorithm == PublicKey::Algorithm::Ed25519) {
    std::array<uint8_t, kEd25519KeyBytes> raw{};
    size_t length = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &length) != 1 || length != raw.size())
      return fail(Kind::BadKey, where + ": the Ed25519 key is not 32 bytes");
    if (auto problem = ed25519_key_problem(raw))
      return fail(Kind::BadKey, where + ": the Ed25519 public key is " + *problem);
  } else {
    std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
      return fail(Kind::BadKey, where + ": the EC public key is not a valid P-256 point");
  }
  key.key_id = sha256_hex(key.spki_der);
  ERR_clear_error();
  return key;
}

Result<PublicKey, SignatureError> read_public_key_file(const std::string& path) {
  const std::string where = escape_untrusted(path, kShown);
  BioPtr bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) return fail(Kind::Unreadable, where + ": cannot read the key file");
  std::string text(kMaxPemBytes + 1, '\0');
  size_t total = 0;
  for (;;) {
    const int n = BIO_read(bio.get(), text.data() + total, static_cast<int>(text.size() - total));
    if (n <= 0) break;
    total += static_cast<size_t>(n);
    if (total == text.size()) break;
  }
  if (total > kMaxPemBytes)
    return fail(Kind::TooLarge, where + ": the key file is over " + std::to_string(kMaxPemBytes) +
                                    " bytes; a PEM public key is a few hundred");
  text.resize(total);
  return parse_public_key_pem(text, path);
}

Result<Verified, SignatureError> verify_signature(std::span<const uint8_t> plugin,
                                                  std::span<const uint8_t> signature,
                                                  std::span<const PublicKey> keys,
                                                  std::optional<SignatureFormat> format) {
  if (signature.size() > kMaxSignatureBytes)
    return fail(Kind::TooLarge, "the signature is " + std::to_string(signature.size()) +
                                    " bytes; the limit is " + std::to_string(kMaxSignatureBytes));
  if (keys.empty()) return fail(Kind::UntrustedKey, "no public key to verify with was given");
  switch (format.value_or(detect_format(signature))) {
    case SignatureFormat::Ed25519:
      if (signature.size() != kEd25519SignatureBytes)
        return fail(Kind::BadSignature, "signature is " + std::to_string(signature.size()) +
                                            " bytes; an Ed25519 signature is 64");
      return verify_with_any(keys, PublicKey::Algorithm::Ed25519, SignatureFormat::Ed25519,
                             signature, plugin);
    case SignatureFormat::Cosign: return verify_cosign(plugin, signature, keys);
    case SignatureFormat::Dsse: return verify_dsse(plugin, signature, keys);
  }
  return fail(Kind::Unsupported, "unknown signature format");
}

Result<PublicKey, SignatureError> private_key_public_part(std::string_view private_key_pem) {
  auto pkey = load_private(private_key_pem);
  if (!pkey) return Failure{pkey.take_error()};
  PublicKey key{*key_algorithm(pkey->get()), "", spki_of(pkey->get()), "private key"};
  key.key_id = sha256_hex(key.spki_der);
  return key;
}

Result<std::vector<uint8_t>, SignatureError> sign_plugin(std::span<const uint8_t> plugin,
                                                         std::string_view private_key_pem,
                                                         SignatureFormat format,
                                                         const SignedStatement* statement) {
  auto pkey = load_private(private_key_pem);
  if (!pkey) return Failure{pkey.take_error()};
  const bool ed = EVP_PKEY_get_base_id(pkey->get()) == EVP_PKEY_ED25519;
  if (format == SignatureFormat::Ed25519 && !ed)
    return fail(Kind::Unsupported,
                "an ed25519 signature needs an Ed25519 key; this is an EC key "
                "(use --format cosign or dsse)");
  if (format == SignatureFormat::Cosign && ed)
    return fail(Kind::Unsupported,
                "a cosign signature needs an EC P-256 key; this is an Ed25519 "
                "key (use --format ed25519 or dsse)");
  if (format != SignatureFormat::Dsse) {
    auto sig = sign_raw(pkey->get(), plugin);
    if (!sig || ed) return sig;
    const std::string text = base64_encode(*sig);
    return std::vector<uint8_t>(text.begin(), text.end());
  }
  if (!statement) return fail(Kind::BadStatement, "a DSSE envelope needs a statement");
  if (statement->name.empty() || statement->version.empty())
    return fail(Kind::BadStatement, "a DSSE statement needs a non-empty name and version");
  const std::string actual = sha256_hex(plugin);
  if (!statement->sha256.empty() && statement->sha256 != actual)
    return fail(Kind::BadStatement, "the statement names sha256 " +
                                        quote_untrusted(statement->sha256, kShown) +
                                        ", the plugin's is " + actual);
  const json body = {{"name", statement->name},
                     {"version", statement->version},
                     {"sha256", actual},
                     {"capabilities", statement->capabilities}};
  // Invalid UTF-8 in a name is replaced, not thrown: the payload is what gets signed.
  const std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace);
  auto sig = sign_raw(pkey->get(), as_bytes(pae(kDssePayloadType, payload)));
  if (!sig) return Failure{sig.take_error()};
  const json envelope = {
      {"payloadType", kDssePayloadType},
      {"payload", base64_encode(as_bytes(payload))},
      {"signatures",
       json::array({{{"keyid", sha256_hex(spki_of(pkey->get()))}, {"sig", base64_encode(*sig)}}})}};
  const std::string text = envelope.dump() + "\n";
  return std::vector<uint8_t>(text.begin(), text.end());
}

}  // namespace warden::policy
