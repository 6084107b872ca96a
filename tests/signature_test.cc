// Tests for policy/signature.h. Every test vector comes from an independent signer run here, at
// test time, in a temporary directory: the openssl CLI (Ed25519, ECDSA P-256), signify-openbsd
// (Ed25519) and Node's crypto (DSSE envelopes). A missing tool fails the test; it never skips.
#include "policy/signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace warden::policy {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using Kind = SignatureError::Kind;
using ::testing::HasSubstr;

// ---- small helpers: files, shell, base64, DER ----

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
std::string read_text(const fs::path& path) {
  Bytes b = read_bytes(path);
  return std::string(b.begin(), b.end());
}
void write_bytes(const fs::path& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}
void write_text(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}
Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct ShellRun {
  int status;
  std::string output;  // stdout and stderr
};
ShellRun sh(const std::string& command) {
  FILE* pipe = popen(("(" + command + ") 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  for (size_t n; pipe && (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int raw = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, output};
}

std::string b64(std::span<const uint8_t> bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = bytes[i] << 16 | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                 (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += a[v >> 18 & 63];
    out += a[v >> 12 & 63];
    out += i + 1 < bytes.size() ? a[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? a[v & 63] : '=';
  }
  return out;
}
Bytes unb64(std::string_view text) {
  Bytes out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = c ? std::strchr(a, c) : nullptr;
    if (!p) continue;  // '=', newlines
    acc = acc << 6 | static_cast<uint32_t>(p - a);
    if ((bits += 6) >= 8) out.push_back(static_cast<uint8_t>(acc >> (bits -= 8)));
  }
  return out;
}

std::string pem_of_spki(std::span<const uint8_t> der) {
  std::string body = b64(der), out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < body.size(); i += 64) out += body.substr(i, 64) + "\n";
  return out + "-----END PUBLIC KEY-----\n";
}
// An Ed25519 SubjectPublicKeyInfo around 32 raw bytes (RFC 8410).
std::string ed25519_pem(std::span<const uint8_t> raw) {
  Bytes der = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  der.insert(der.end(), raw.begin(), raw.end());
  return pem_of_spki(der);
}
Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// r and s of a DER ECDSA signature, as big-endian magnitudes without leading zeros.
struct Ecdsa {
  Bytes r, s;
};
Ecdsa parse_der(const Bytes& der) {
  Ecdsa out;
  size_t i = 2;
  for (Bytes* v : {&out.r, &out.s}) {
    const size_t n = der.at(i + 1);
    v->assign(der.begin() + static_cast<long>(i + 2), der.begin() + static_cast<long>(i + 2 + n));
    while (!v->empty() && v->front() == 0) v->erase(v->begin());
    i += 2 + n;
  }
  return out;
}
Bytes der_int(Bytes v) {
  if (v.empty() || v.front() & 0x80) v.insert(v.begin(), 0);
  v.insert(v.begin(), {0x02, static_cast<uint8_t>(v.size())});
  return v;
}
Bytes encode_der(const Ecdsa& sig) {
  Bytes body = der_int(sig.r), s = der_int(sig.s);
  body.insert(body.end(), s.begin(), s.end());
  body.insert(body.begin(), {0x30, static_cast<uint8_t>(body.size())});
  return body;
}
const Bytes kP256Order =
    from_hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
Bytes pad32(Bytes v) {
  v.insert(v.begin(), 32 - v.size(), 0);
  return v;
}
Bytes order_minus(const Bytes& s) {  // n - s
  Bytes a = kP256Order, b = pad32(s), out(32);
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = a[i] - b[i] - borrow;
    borrow = d < 0;
    out[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  while (!out.empty() && out.front() == 0) out.erase(out.begin());
  return out;
}
bool is_high_s(const Bytes& s) {  // s > n/2, i.e. n - s < s
  return pad32(order_minus(s)) < pad32(s);
}

// ---- the fixture: a temporary directory with a plugin and tools to make keys ----

class SignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "warden-signature-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    plugin_ = to_bytes(std::string("\0asm\1\0\0\0", 8) + "a plugin's bytes, signed and verified");
    write_bytes(path("plugin.wasm"), plugin_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Fails (never skips) when a signer is missing: scripts/install-deps.sh installs them all.
  static void require(const std::string& tool) {
    ASSERT_EQ(sh("command -v " + tool + " >/dev/null").status, 0)
        << tool
        << " is not installed; run scripts/install-deps.sh (the signature tests need "
           "openssl, signify-openbsd and node as independent signers)";
  }
  void run_ok(const std::string& command) {
    ShellRun r = sh("cd '" + dir_.string() + "' && " + command);
    ASSERT_EQ(r.status, 0) << command << "\n" << r.output;
  }

  // openssl key pairs: NAME.pem (private) and NAME.pub (SubjectPublicKeyInfo PEM).
  void openssl_key(const std::string& name, const std::string& genpkey_args) {
    require("openssl");
    run_ok("openssl genpkey " + genpkey_args + " -out " + name + ".pem && openssl pkey -in " +
           name + ".pem -pubout -out " + name + ".pub");
  }
  void ed25519_key(const std::string& name) { openssl_key(name, "-algorithm ed25519"); }
  void p256_key(const std::string& name) {
    openssl_key(name, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
  }
  PublicKey key(const std::string& name) {
    auto k = read_public_key_file(path(name + ".pub"));
    EXPECT_TRUE(k.ok()) << k.error().message;
    return k.ok() ? *k : PublicKey{};
  }
  // openssl pkeyutl -sign -rawin: an Ed25519 signature of FILE.
  Bytes openssl_ed25519(const std::string& keyname, const std::string& file = "plugin.wasm") {
    run_ok("openssl pkeyutl -sign -rawin -inkey " + keyname + ".pem -in " + file + " -out sig");
    return read_bytes(path("sig"));
  }
  // openssl dgst -sha256 -sign, re-run until OpenSSL happens to produce a low-S signature
  // (about half do): the DER bytes.
  Bytes openssl_ecdsa_low_s(const std::string& keyname, const std::string& file = "plugin.wasm") {
    for (int i = 0; i < 64; ++i) {
      run_ok("openssl dgst -sha256 -sign " + keyname + ".pem -out sig.der " + file);
      Bytes der = read_bytes(path("sig.der"));
      if (!is_high_s(parse_der(der).s)) return der;
    }
    ADD_FAILURE() << "openssl produced 64 high-S signatures in a row";
    return {};
  }
  Result<Verified, SignatureError> verify(std::span<const uint8_t> sig, std::vector<PublicKey> keys,
                                          std::optional<SignatureFormat> format = std::nullopt) {
    return verify_signature(plugin_, sig, keys, format);
  }
  Bytes flipped_plugin() const {
    Bytes b = plugin_;
    b[10] ^= 0x01;
    return b;
  }

  // A DSSE envelope made by Node's crypto with its own key (KEYNAME.pub written for us): the
  // statement is {name, version, sha256, capabilities}, overridable field by field as JSON.
  nlohmann::json node_dsse(const std::string& algorithm, const std::string& keyname,
                           const nlohmann::json& overrides = nlohmann::json::object(),
                           const std::string& payload_type = std::string(kDssePayloadType)) {
    require("node");
    write_text(path("dsse.js"), R"js(
const crypto = require('crypto'), fs = require('fs');
const [alg, plugin, pubOut, overrides, type] = process.argv.slice(2);
const { publicKey, privateKey } = alg === 'ed25519'
  ? crypto.generateKeyPairSync('ed25519')
  : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = publicKey.export({ type: 'spki', format: 'der' });
fs.writeFileSync(pubOut, publicKey.export({ type: 'spki', format: 'pem' }));
const statement = Object.assign({
  name: 'count-vowels', version: '1.2.3',
  sha256: crypto.createHash('sha256').update(fs.readFileSync(plugin)).digest('hex'),
  capabilities: ['log', 'config']
}, JSON.parse(overrides));
const body = Buffer.from(JSON.stringify(statement));
const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
let sig;
if (alg === 'ed25519') {
  sig = crypto.sign(null, pae, privateKey);
} else {
  // IEEE P1363 r||s, s moved to the low half, then DER (SEQUENCE of two INTEGERs).
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const raw = crypto.sign('sha256', pae, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const r = BigInt('0x' + raw.subarray(0, 32).toString('hex'));
  let s = BigInt('0x' + raw.subarray(32).toString('hex'));
  if (s > n / 2n) s = n - s;
  const int = v => { let h = v.toString(16); if (h.length % 2) h = '0' + h;
    let b = Buffer.from(h, 'hex'); if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]); };
  const seq = Buffer.concat([int(r), int(s)]);
  sig = Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}
process.stdout.write(JSON.stringify({
  payloadType: type, payload: body.toString('base64'),
  signatures: [{ keyid: crypto.createHash('sha256').update(spki).digest('hex'),
                 sig: sig.toString('base64') }]
}));
)js");
    ShellRun r = sh("cd '" + dir_.string() + "' && node dsse.js " + algorithm + " plugin.wasm " +
                    keyname + ".pub '" + overrides.dump() + "' '" + payload_type + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    auto envelope = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_FALSE(envelope.is_discarded()) << r.output;
    return envelope;
  }
  static Bytes bytes_of(const nlohmann::json& envelope) { return to_bytes(envelope.dump()); }

  fs::path dir_;
  Bytes plugin_;
};

void expect_refused(const Result<Verified, SignatureError>& result, Kind kind,
                    const std::string& text) {
  ASSERT_FALSE(result.ok()) << "verified, but should have been refused for: " << text;
  EXPECT_EQ(static_cast<int>(result.error().kind), static_cast<int>(kind))
      << result.error().message;
  EXPECT_THAT(result.error().message, HasSubstr(text));
}
template <class T>
void expect_key_refused(const Result<T, SignatureError>& result, const std::string& text) {
  ASSERT_FALSE(result.ok()) << "accepted, but should have been refused for: " << text;
  EXPECT_THAT(result.error().message, HasSubstr(text));
}

// ---- formats and keys ----

TEST(SignatureFormat, NamesRoundTrip) {
  for (auto f : {SignatureFormat::Ed25519, SignatureFormat::Cosign, SignatureFormat::Dsse})
    EXPECT_EQ(parse_signature_format(signature_format_name(f)), f);
  EXPECT_EQ(parse_signature_format("Ed25519"), std::nullopt);
  EXPECT_EQ(parse_signature_format(""), std::nullopt);
}

TEST_F(SignatureTest, KeyIdIsSha256OfSpkiDer) {
  ed25519_key("a");
  run_ok("openssl pkey -pubin -in a.pub -outform DER | openssl dgst -sha256 -r | cut -c1-64 > id");
  std::string id = read_text(path("id"));
  id.erase(id.find_last_not_of("\n ") + 1);
  PublicKey k = key("a");
  EXPECT_EQ(k.key_id, id);
  EXPECT_EQ(k.algorithm, PublicKey::Algorithm::Ed25519);
  EXPECT_EQ(k.source, path("a.pub"));
}

TEST_F(SignatureTest, PemWithTextAroundIsAccepted) {
  p256_key("a");
  auto k = parse_public_key_pem("a comment\n" + read_text(path("a.pub")) + "trailing junk\n", "x");
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->algorithm, PublicKey::Algorithm::EcdsaP256);
}

TEST_F(SignatureTest, TruncatedPemIsRefused) {
  ed25519_key("a");
  const std::string pem = read_text(path("a.pub"));
  expect_key_refused(parse_public_key_pem(pem.substr(0, pem.find("-----END")), "a.pub"),
                     "a.pub: truncated PEM: no \"-----END PUBLIC KEY-----\" line");
  // Half the body, END line kept: the DER is cut short.
  const size_t body = pem.find('\n') + 1;
  const std::string cut =
      pem.substr(0, body) + pem.substr(body, 20) + "\n" + pem.substr(pem.find("-----END"));
  EXPECT_FALSE(parse_public_key_pem(cut, "a.pub").ok());
}

TEST_F(SignatureTest, GarbageInsidePemIsRefused) {
  ed25519_key("a");
  std::string pem = read_text(path("a.pub"));
  pem.insert(pem.find('\n') + 5, "\x1b[2J");
  expect_key_refused(parse_public_key_pem(pem, "a.pub"),
                     "PEM line 2 is not base64: \"MCow\\x1b[2J");
}

TEST_F(SignatureTest, RsaAndOtherCurvesAreRefused) {
  openssl_key("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024");
  expect_key_refused(read_public_key_file(path("rsa.pub")),
                     "a RSA key; warden accepts Ed25519 or EC P-256 keys");
  openssl_key("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");
  expect_key_refused(read_public_key_file(path("p384.pub")),
                     "an EC key on curve secp384r1; warden accepts P-256 only");
}

TEST(SignatureKeys, AllZeroEd25519KeyIsRefused) {
  expect_key_refused(parse_public_key_pem(ed25519_pem(Bytes(32, 0)), "zero.pub"),
                     "zero.pub: the Ed25519 public key is a point of small order");
}

TEST(SignatureKeys, SmallOrderEd25519KeysAreRefused) {
  const char* small_order[] = {
      "0100000000000000000000000000000000000000000000000000000000000000",  // identity
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
      "0000000000000000000000000000000000000000000000000000000000000080",  // order 4
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  };
  for (const char* hex : small_order)
    expect_key_refused(parse_public_key_pem(ed25519_pem(from_hex(hex)), hex),
                       "a point of small order");
  // Non-canonical encodings of the same points: y = p, p + 1; x = 0 with the sign bit set.
  const char* non_canonical[] = {
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0100000000000000000000000000000000000000000000000000000000000080",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  for (const char* hex : non_canonical)
    expect_key_refused(parse_public_key_pem(ed25519_pem(from_hex(hex)), hex), "non-canonical");
}

TEST_F(SignatureTest, OversizedInputsAreRefused) {
  ed25519_key("a");
  const std::string big(kMaxPemBytes + 1, 'A');
  expect_key_refused(parse_public_key_pem(big, "big.pub"), "the key PEM is 65537 bytes");
  write_text(path("big.pub"), big);
  expect_key_refused(read_public_key_file(path("big.pub")), "the key file is over 65536 bytes");
  expect_refused(verify(Bytes(kMaxSignatureBytes + 1, '{'), {key("a")}), Kind::TooLarge,
                 "the signature is 1048577 bytes; the limit is 1048576");
  expect_key_refused(sign_plugin(plugin_, big, SignatureFormat::Ed25519),
                     "the private key PEM is 65537 bytes");
}

// ---- Ed25519 ----

TEST_F(SignatureTest, OpensslEd25519Verifies) {
  ed25519_key("a");
  ed25519_key("b");
  const Bytes sig = openssl_ed25519("a");
  ASSERT_EQ(sig.size(), 64u);
  for (auto format : {std::optional<SignatureFormat>(), std::optional(SignatureFormat::Ed25519)}) {
    auto v = verify(sig, {key("b"), key("a")}, format);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->format, SignatureFormat::Ed25519);
    EXPECT_EQ(v->key.key_id, key("a").key_id);
    EXPECT_FALSE(v->statement);
  }
}

TEST_F(SignatureTest, SignifyEd25519Verifies) {
  require("signify-openbsd");
  run_ok(
      "signify-openbsd -G -n -p s.pub -s s.sec && "
      "signify-openbsd -S -s s.sec -m plugin.wasm -x plugin.wasm.sig");
  // signify's files: a comment line, then base64 of "Ed" || 8-byte key number || key or sig.
  auto second_line = [&](const std::string& name) {
    std::string text = read_text(path(name));
    return unb64(text.substr(text.find('\n') + 1));
  };
  const Bytes pub = second_line("s.pub"), sig = second_line("plugin.wasm.sig");
  ASSERT_EQ(pub.size(), 42u);
  ASSERT_EQ(sig.size(), 74u);
  auto k = parse_public_key_pem(ed25519_pem(std::span(pub).subspan(10)), "signify s.pub");
  ASSERT_TRUE(k.ok()) << k.error().message;
  const Bytes raw(sig.begin() + 10, sig.end());
  auto v = verify(raw, {*k});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->format, SignatureFormat::Ed25519);
  expect_refused(verify_signature(flipped_plugin(), raw, std::vector{*k}), Kind::Mismatch,
                 "the plugin was changed, or it was signed by another key");
}

TEST_F(SignatureTest, Ed25519ByAnotherKeyIsRefused) {
  ed25519_key("a");
  ed25519_key("b");
  expect_refused(verify(openssl_ed25519("a"), {key("b")}), Kind::Mismatch,
                 "the ed25519 signature does not verify with key " + key("b").key_id + " (" +
                     path("b.pub") + ")");
}

TEST_F(SignatureTest, Ed25519WithOnlyAnEcKeyIsRefused) {
  ed25519_key("a");
  p256_key("e");
  expect_refused(verify(openssl_ed25519("a"), {key("e")}), Kind::UntrustedKey,
                 "an ed25519 signature needs an Ed25519 key, and none was given");
}

TEST_F(SignatureTest, Ed25519Of63BytesIsRefused) {
  ed25519_key("a");
  Bytes sig = openssl_ed25519("a");
  sig.pop_back();
  sig[0] = 0xff;  // binary, so detection cannot mistake it for base64
  expect_refused(verify(sig, {key("a")}), Kind::BadSignature,
                 "signature is 63 bytes; an Ed25519 signature is 64");
  expect_refused(verify(sig, {key("a")}, SignatureFormat::Ed25519), Kind::BadSignature,
                 "signature is 63 bytes; an Ed25519 signature is 64");
}

TEST_F(SignatureTest, Ed25519Of65BytesIsRefused) {
  ed25519_key("a");
  Bytes sig = openssl_ed25519("a");
  sig.push_back(0);
  expect_refused(verify(sig, {key("a")}, SignatureFormat::Ed25519), Kind::BadSignature,
                 "signature is 65 bytes; an Ed25519 signature is 64");
}

TEST_F(SignatureTest, Ed25519OverAFlippedPluginIsRefused) {
  ed25519_key("a");
  const Bytes sig = openssl_ed25519("a");
  expect_refused(verify_signature(flipped_plugin(), sig, std::vector{key("a")}), Kind::Mismatch,
                 "the plugin was changed");
}

// ---- cosign (ECDSA P-256 over SHA-256) ----

TEST_F(SignatureTest, OpensslEcdsaVerifiesAsCosign) {
  p256_key("e");
  const Bytes der = openssl_ecdsa_low_s("e");
  // `openssl dgst -sha256 -sign KEY | base64 -w0` is cosign's file; with and without a newline.
  for (std::string text : {b64(der), b64(der) + "\n"}) {
    auto v = verify(to_bytes(text), {key("e")});
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->format, SignatureFormat::Cosign);
    EXPECT_EQ(v->key.key_id, key("e").key_id);
  }
}

TEST_F(SignatureTest, CosignHighSIsRefused) {
  p256_key("e");
  Ecdsa sig = parse_der(openssl_ecdsa_low_s("e"));
  ASSERT_TRUE(verify(to_bytes(b64(encode_der(sig))), {key("e")}).ok());
  sig.s = order_minus(sig.s);  // the same signature, mathematically valid, in its high-S form
  expect_refused(verify(to_bytes(b64(encode_der(sig))), {key("e")}, SignatureFormat::Cosign),
                 Kind::BadSignature, "high-S (s > n/2)");
}

TEST_F(SignatureTest, CosignNonMinimalDerIsRefused) {
  p256_key("e");
  const Bytes der = openssl_ecdsa_low_s("e");
  // Long-form length of the SEQUENCE: 30 81 LL.
  Bytes long_form = der;
  long_form.insert(long_form.begin() + 1, 0x81);
  // An INTEGER padded with a needless 00 (r gets one more leading zero byte).
  Ecdsa parts = parse_der(der);
  Bytes r = der_int(parts.r), s = der_int(parts.s);
  r.insert(r.begin() + 2, 0x00);
  r[1] += 1;
  Bytes padded = {0x30, static_cast<uint8_t>(r.size() + s.size())};
  padded.insert(padded.end(), r.begin(), r.end());
  padded.insert(padded.end(), s.begin(), s.end());
  // Trailing bytes after the DER, and trailing garbage after the base64.
  Bytes trailing = der;
  trailing.push_back(0);
  // Each is refused as a malformed signature: "not DER" where OpenSSL's parser already balks
  // (the long-form length), "not canonical DER" where it parses but does not re-encode the same.
  for (const Bytes& bad : {long_form, padded, trailing})
    expect_refused(verify(to_bytes(b64(bad)), {key("e")}), Kind::BadSignature, "DER");
  expect_refused(verify(to_bytes(b64(der) + "\nAAAA"), {key("e")}, SignatureFormat::Cosign),
                 Kind::BadSignature, "not one line of standard base64");
}

TEST_F(SignatureTest, CosignOverAFlippedPluginIsRefused) {
  p256_key("e");
  const Bytes sig = to_bytes(b64(openssl_ecdsa_low_s("e")));
  expect_refused(verify_signature(flipped_plugin(), sig, std::vector{key("e")}), Kind::Mismatch,
                 "the cosign signature does not verify with key " + key("e").key_id);
}

TEST_F(SignatureTest, CosignByAnotherKeyIsRefused) {
  p256_key("e");
  p256_key("f");
  expect_refused(verify(to_bytes(b64(openssl_ecdsa_low_s("e"))), {key("f")}), Kind::Mismatch,
                 "does not verify with key " + key("f").key_id);
}

// ---- DSSE ----

TEST_F(SignatureTest, NodeDsseEd25519Verifies) {
  const auto envelope = node_dsse("ed25519", "n");
  auto v = verify(bytes_of(envelope), {key("n")});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->format, SignatureFormat::Dsse);
  EXPECT_EQ(v->key.key_id, envelope["signatures"][0]["keyid"]);
  ASSERT_TRUE(v->statement);
  EXPECT_EQ(v->statement->name, "count-vowels");
  EXPECT_EQ(v->statement->version, "1.2.3");
  EXPECT_EQ(v->statement->sha256, sha256_hex(plugin_));
  EXPECT_EQ(v->statement->capabilities, (std::vector<std::string>{"log", "config"}));
}

TEST_F(SignatureTest, NodeDsseEcdsaVerifies) {
  const auto envelope = node_dsse("ec", "n");
  auto v = verify(bytes_of(envelope), {key("n")}, SignatureFormat::Dsse);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->key.algorithm, PublicKey::Algorithm::EcdsaP256);
}

TEST_F(SignatureTest, DsseWithoutKeyIdTriesEveryKey) {
  ed25519_key("other");
  auto envelope = node_dsse("ed25519", "n");
  envelope["signatures"][0].erase("keyid");
  auto v = verify(bytes_of(envelope), {key("other"), key("n")});
  ASSERT_TRUE(v.ok()) << v.error().message;
}

TEST_F(SignatureTest, DsseForAnotherPluginIsRefused) {
  const std::string other(64, 'a');
  const auto envelope = node_dsse("ed25519", "n", {{"sha256", other}});
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::BadStatement,
                 "is for another plugin: it names sha256 " + other + ", the plugin's is " +
                     sha256_hex(plugin_));
}

TEST_F(SignatureTest, DsseOverAFlippedPluginIsRefused) {
  const auto envelope = node_dsse("ec", "n");
  expect_refused(verify_signature(flipped_plugin(), bytes_of(envelope), std::vector{key("n")}),
                 Kind::BadStatement, "is for another plugin");
}

TEST_F(SignatureTest, DsseRelabelledWithMoreCapabilitiesIsRefused) {
  auto envelope = node_dsse("ed25519", "n");
  const Bytes payload = unb64(envelope["payload"].get<std::string>());
  auto statement = nlohmann::json::parse(payload);
  statement["capabilities"].push_back("http");
  envelope["payload"] = b64(to_bytes(statement.dump()));
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::Mismatch,
                 "no DSSE signature verifies with key " + key("n").key_id);
}

TEST_F(SignatureTest, DsseUnknownPayloadTypeIsRefused) {
  const auto envelope = node_dsse("ed25519", "n", nlohmann::json::object(), "application/json");
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::BadSignature,
                 "the DSSE payloadType is \"application/json\"; warden accepts only "
                 "\"application/vnd.warden.plugin+json\"");
}

TEST_F(SignatureTest, DsseUnknownStatementKeyIsRefused) {
  const auto envelope = node_dsse("ed25519", "n", {{"network", "any"}});
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::BadStatement,
                 "the DSSE statement has an unknown key \"network\"");
}

TEST_F(SignatureTest, DsseEmptyNameIsRefused) {
  const auto envelope = node_dsse("ec", "n", {{"name", ""}});
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::BadStatement,
                 "\"name\" is not a non-empty string");
}

TEST_F(SignatureTest, DsseByAKeyThePolicyDoesNotAcceptIsRefused) {
  ed25519_key("a");
  const auto envelope = node_dsse("ed25519", "n");
  expect_refused(verify(bytes_of(envelope), {key("a")}), Kind::UntrustedKey,
                 "signed by key \"" + key("n").key_id + "\", which is not among the accepted keys");
}

TEST_F(SignatureTest, DsseUnpaddedBase64IsRefused) {
  auto envelope = node_dsse("ed25519", "n");
  std::string payload = envelope["payload"];
  if (payload.back() != '=') GTEST_SKIP() << "payload needed no padding";
  payload.erase(payload.find('='));
  envelope["payload"] = payload;
  expect_refused(verify(bytes_of(envelope), {key("n")}), Kind::BadSignature,
                 "the DSSE payload is not standard base64 with padding");
}

TEST_F(SignatureTest, DsseDuplicateKeysAreRefused) {
  const auto envelope = node_dsse("ed25519", "n");
  std::string text = envelope.dump();
  text.insert(1, "\"payloadType\":\"x\",");
  expect_refused(verify(to_bytes(text), {key("n")}), Kind::BadSignature, "duplicate keys");
}

// ---- signing ----

TEST_F(SignatureTest, SignPluginRoundTripsAndOpensslAgrees) {
  ed25519_key("a");
  p256_key("e");
  require("openssl");
  run_ok(
      "openssl ecparam -name prime256v1 -genkey -noout -out sec1.pem && "
      "openssl ec -in sec1.pem -pubout -out sec1.pub");
  auto ed = sign_plugin(plugin_, read_text(path("a.pem")), SignatureFormat::Ed25519);
  ASSERT_TRUE(ed.ok()) << ed.error().message;
  ASSERT_TRUE(verify(*ed, {key("a")}).ok());
  write_bytes(path("w.sig"), *ed);
  run_ok("openssl pkeyutl -verify -rawin -pubin -inkey a.pub -in plugin.wasm -sigfile w.sig");

  for (const std::string name : {"e", "sec1"}) {
    auto cosign = sign_plugin(plugin_, read_text(path(name + ".pem")), SignatureFormat::Cosign);
    ASSERT_TRUE(cosign.ok()) << cosign.error().message;
    auto v = verify(*cosign, {key(name)});
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->format, SignatureFormat::Cosign);
    write_bytes(path("w.der"), unb64(std::string(cosign->begin(), cosign->end())));
    run_ok("openssl dgst -sha256 -verify " + name + ".pub -signature w.der plugin.wasm");
  }

  for (const std::string name : {"a", "e"}) {
    SignedStatement s{"count-vowels", "1.0.0", "", {"log"}};
    auto dsse = sign_plugin(plugin_, read_text(path(name + ".pem")), SignatureFormat::Dsse, &s);
    ASSERT_TRUE(dsse.ok()) << dsse.error().message;
    auto v = verify(*dsse, {key(name)});
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->statement->sha256, sha256_hex(plugin_));
    EXPECT_EQ(v->statement->capabilities, std::vector<std::string>{"log"});
    auto pub = private_key_public_part(read_text(path(name + ".pem")));
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub->key_id, key(name).key_id);
  }
}

TEST_F(SignatureTest, SignPluginRefusesMismatchedFormatsAndStatements) {
  ed25519_key("a");
  p256_key("e");
  EXPECT_EQ(sign_plugin(plugin_, read_text(path("e.pem")), SignatureFormat::Ed25519).error().kind,
            Kind::Unsupported);
  EXPECT_EQ(sign_plugin(plugin_, read_text(path("a.pem")), SignatureFormat::Cosign).error().kind,
            Kind::Unsupported);
  EXPECT_EQ(sign_plugin(plugin_, read_text(path("a.pem")), SignatureFormat::Dsse).error().kind,
            Kind::BadStatement);
  SignedStatement wrong{"n", "1", std::string(64, '0'), {}};
  expect_key_refused(sign_plugin(plugin_, read_text(path("a.pem")), SignatureFormat::Dsse, &wrong),
                     "the statement names sha256");
  expect_key_refused(sign_plugin(plugin_, read_text(path("a.pub")), SignatureFormat::Ed25519),
                     "not an unencrypted PEM private key");
}

}  // namespace
}  // namespace warden::policy
