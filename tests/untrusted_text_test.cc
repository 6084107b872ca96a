// Untrusted bytes become text in one way, escape_untrusted(): in the plugin's error (error_set),
// the URL of a refused request, link errors that name imports, duplicate export names, manifest
// keys. And plugin bytes reach libcurl only as valid HTTP: methods are tokens, header names are
// tokens, values and URLs hold no CR, LF or NUL.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "decoder/untrusted_text.h"
#include "hostabi/manifest.h"
#include "hostabi/plugin.h"
#include "http_test_server.h"
#include "validator/load_module.h"
#include "test_guest.h"
#include "vm/store.h"

namespace warden {
namespace {

using test::guest_bytes;

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

TEST(EscapeUntrusted, EscapesEverythingThatIsNotPrintable) {
  EXPECT_EQ(escape_untrusted("plain text, é ✓"), "plain text, é ✓");
  EXPECT_EQ(escape_untrusted("\x1b[2J\x1b[Hresult: 42\r\n"), "\\x1b[2J\\x1b[Hresult: 42\\r\\n");
  EXPECT_EQ(escape_untrusted(std::string_view("a\0b\x7f", 4)), "a\\x00b\\x7f");
  EXPECT_EQ(escape_untrusted("back\\slash"), "back\\\\slash");  // so an escape cannot be forged
  EXPECT_EQ(escape_untrusted("\xff\xfe ok"), "\\xff\\xfe ok");  // not UTF-8
  EXPECT_EQ(escape_untrusted("\xc2\x9b"), "\\xc2\\x9b");        // C1 CSI
  EXPECT_EQ(escape_untrusted("\xe2\x80\xae"
                             "abc"),
            "\\xe2\\x80\\xaeabc");                                 // bidi override
  EXPECT_EQ(escape_untrusted("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");  // line separator
  EXPECT_EQ(escape_untrusted("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(escape_untrusted("abcdef", 3), "abc [truncated]");
  EXPECT_EQ(quote_untrusted("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
}

// ---- 6. error text a plugin controls ----

TEST(UntrustedText, ThePluginsErrorMessageIsEscaped) {
  auto p = extism::Plugin::create(guest_bytes("untrusted_text"));
  ASSERT_TRUE(p) << p.error().message;
  auto r = (*p)->call("error_from_input", std::string_view("\x1b[2J\x1b[H{\"count\": 3}\n\x07"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "\\x1b[2J\\x1b[H{\"count\": 3}\\n\\x07");
  EXPECT_EQ(r.error().rc, 1);
  // Capped too: a 1 MiB message keeps its first 64 KiB.
  auto big = (*p)->call("error_from_input", std::string(1 << 20, 'e'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message.size(), (64u << 10) + std::string(" [truncated]").size());
}

TEST(UntrustedText, ARefusedRequestsUrlIsEscaped) {
  extism::Manifest m;
  extism::WasmSource s;
  s.data = guest_bytes("untrusted_text");
  m.wasm.push_back(s);
  auto p = extism::Plugin::create(m);
  ASSERT_TRUE(p) << p.error().message;
  auto r = (*p)->call("http_from_input",
                      std::string_view(R"({"url": "http://evil.example/\u001b[2J\u001b[Hok"})"));
  ASSERT_FALSE(r);
  EXPECT_FALSE(has_control(r.error().message)) << r.error().message;
  EXPECT_NE(r.error().message.find("\\x1b[2J"), std::string::npos) << r.error().message;
}

TEST(UntrustedText, LinkErrorsNamingImportsAreEscaped) {
  const auto bytes = guest_bytes("untrusted_names");
  auto p = extism::Plugin::create(bytes);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "unknown import: `env\\x1b[2J::f\\r\\x1b[32mcapability: none\\x1b[0m` has not been "
            "defined");
  Engine engine;
  Store store(engine);
  auto compiled = CompiledModule::compile(engine, bytes);
  ASSERT_TRUE(compiled);
  auto inst = store.instantiate(*compiled, Linker{});
  ASSERT_FALSE(inst);
  EXPECT_FALSE(has_control(inst.error().message())) << inst.error().message();
  EXPECT_NE(inst.error().message().find("\"env\\x1b[2J\""), std::string::npos)
      << inst.error().message();
}

TEST(UntrustedText, DuplicateExportNamesAreEscaped) {
  // (func) exported twice as "\x1b[2J".
  const uint8_t wasm[] = {0, 'a',  's', 'm', 1,   0,  0, 0,  1,    4,   1,   0x60, 0,   0,
                          3, 2,    1,   0,   7,   15, 2, 4,  0x1b, '[', '2', 'J',  0,   0,
                          4, 0x1b, '[', '2', 'J', 0,  0, 10, 4,    1,   2,   0,    0x0b};
  auto loaded = load_module(std::vector<uint8_t>(std::begin(wasm), std::end(wasm)));
  ASSERT_FALSE(loaded);
  const std::string text = loaded.error().to_string();
  EXPECT_FALSE(has_control(text)) << text;
  EXPECT_NE(text.find("\"\\x1b[2J\""), std::string::npos) << text;
}

// ---- 9. plugin bytes reach libcurl only as valid HTTP ----

class HttpSmuggling : public ::testing::Test {
 protected:
  void SetUp() override {
    extism::Manifest m;
    extism::WasmSource s;
    s.data = guest_bytes("untrusted_text");
    m.wasm.push_back(s);
    m.allowed_hosts = std::vector<std::string>{"127.0.0.1"};
    auto p = extism::Plugin::create(m);
    ASSERT_TRUE(p) << p.error().message;
    plugin = std::move(*p);
  }
  std::string request(const std::string& method_json, const std::string& headers_json) {
    return R"({"url": ")" + server.url("/echo") + R"(", "method": )" + method_json +
           R"(, "headers": )" + headers_json + "}";
  }
  testing::HttpTestServer server;
  std::unique_ptr<extism::Plugin> plugin;
};

TEST_F(HttpSmuggling, AValidRequestGoesThrough) {
  auto r = plugin->call("http_from_input", request(R"("PATCH")", R"({"X-Fine": "a: b"})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "PATCH\n");
}

TEST_F(HttpSmuggling, AMethodMustBeAToken) {
  for (const char* method : {R"("GET /admin HTTP/1.1\r\nHost: x\r\n\r\nGET")", R"("GET\nX: 1")",
                             R"("")", R"("PO ST")", R"("GET\u0000")"}) {
    auto r = plugin->call("http_from_input", request(method, "{}"));
    ASSERT_FALSE(r) << method;
    EXPECT_TRUE(r.error().message.starts_with("invalid HTTP method ")) << r.error().message;
    EXPECT_FALSE(has_control(r.error().message)) << r.error().message;
  }
}

TEST_F(HttpSmuggling, HeaderNamesAreTokensAndValuesHoldNoCrLfOrNul) {
  for (const char* headers :
       {R"({"X-A": "1\r\nX-Injected: yes"})", R"({"X-A": "1\nX-Injected: yes"})",
        R"({"X-A": "1\u0000hidden"})", R"({"X-A\r\nX-Injected": "yes"})", R"({"Bad Name": "1"})",
        R"({"": "1"})", R"({"X:Y": "1"})"}) {
    auto r = plugin->call("http_from_input", request(R"("GET")", headers));
    ASSERT_FALSE(r) << headers;
    EXPECT_TRUE(r.error().message.starts_with("invalid HTTP header name ") ||
                r.error().message.starts_with("invalid value for HTTP header "))
        << r.error().message;
    EXPECT_FALSE(has_control(r.error().message)) << r.error().message;
  }
}

TEST_F(HttpSmuggling, ARequestDescriptionOver1MiBIsRefusedUnparsed) {
  std::string big = request(R"("GET")", "{}");
  big.insert(big.size() - 1, ", \"pad\": \"" + std::string(2 << 20, 'x') + "\"");
  auto r = plugin->call("http_from_input", big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "invalid HTTP request: its JSON is over 1 MiB");
}

TEST_F(HttpSmuggling, AUrlHoldsNoControlCharacters) {
  auto r = plugin->call("http_from_input",
                        R"({"url": ")" + server.url("/echo") + R"( HTTP/1.1\r\nX: y"})");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("invalid URL ")) << r.error().message;
}

// ---- 10. manifests: duplicate keys, NUL in paths ----

TEST(ManifestText, DuplicateKeysAreRefusedAtEveryDepth) {
  auto top = extism::parse_manifest(
      R"({"wasm": [{"path": "a.wasm"}], "allowed_hosts": [], "allowed_hosts": ["evil"]})");
  ASSERT_FALSE(top);
  EXPECT_EQ(top.error().message, "manifest: duplicate key \"allowed_hosts\" (at depth 1)");
  auto nested = extism::parse_manifest(
      R"({"wasm": [{"path": "a.wasm"}], "memory": {"max_pages": 1, "max_pages": 100000}})");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().message, "manifest: duplicate key \"max_pages\" (at depth 2)");
  auto config =
      extism::parse_manifest(R"({"wasm": [{"path": "a.wasm"}], "config": {"k": "1", "k": "2"}})");
  ASSERT_FALSE(config);
  // The same key in two different objects is fine.
  auto fine = extism::parse_manifest(
      R"({"wasm": [{"path": "a.wasm", "name": "x"}, {"path": "b.wasm", "name": "main"}]})");
  EXPECT_TRUE(fine) << fine.error().message;
}

TEST(ManifestText, ANulInsideAPathIsRefused) {
  auto source = extism::parse_manifest(R"({"wasm": [{"path": "plugin.wasm\u0000.txt"}]})");
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message, "manifest: wasm[0].path contains a NUL byte");
  auto mount = extism::parse_manifest(
      R"({"wasm": [{"path": "a.wasm"}], "allowed_paths": {"/tmp/ok": "/data\u0000/x"}})");
  ASSERT_FALSE(mount);
  EXPECT_EQ(mount.error().message, "manifest: allowed_paths./tmp/ok contains a NUL byte");
  auto host_key = extism::parse_manifest(
      R"({"wasm": [{"path": "a.wasm"}], "allowed_paths": {"/\u0000etc": "/data"}})");
  ASSERT_FALSE(host_key);
  EXPECT_EQ(host_key.error().message,
            "manifest: allowed_paths./\\x00etc (the key) contains a NUL byte");
  auto host =
      extism::parse_manifest(R"({"wasm": [{"path": "a.wasm"}], "allowed_hosts": ["a\u0000b"]})");
  ASSERT_FALSE(host);
}

TEST(ManifestText, UnknownKeysAreQuotedEscaped) {
  auto m = extism::parse_manifest(R"({"wasm": [{"path": "a.wasm"}], "\u001b[2Jx": 1})");
  ASSERT_FALSE(m);
  EXPECT_FALSE(has_control(m.error().message)) << m.error().message;
  EXPECT_NE(m.error().message.find("\"\\x1b[2Jx\""), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace warden
