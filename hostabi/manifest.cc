#include "hostabi/manifest.h"

#include <openssl/evp.h>

#include <fstream>
#include <filesystem>
#include <cstring>
#include <cerrno>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hostabi/http.h"
#include "decoder/untrusted_text.h"

namespace warden::extism {
namespace {

using json = nlohmann::json;

struct Bad {
  std::string message;
};

[[noreturn]] void bad(std::string message) { throw Bad{"manifest: " + std::move(message)}; }

void only_fields(const json& object, std::string_view where,
                 std::initializer_list<std::string_view> known) {
  if (!object.is_object()) bad(std::string(where) + " must be an object");
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (std::string_view k : known) ok |= k == key;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      bad("unknown field " + quote_untrusted(key, 256) + " in " + std::string(where) +
          " (expected one of: " + list + ")");
    }
  }
}

std::string string_field(const json& j, std::string_view where) {
  if (!j.is_string()) bad(std::string(where) + " must be a string");
  return j.get<std::string>();
}

// A path, URL, host or header: a NUL inside would silently cut it short where it meets a C API.
std::string name_field(const json& j, std::string_view where) {
  std::string s = string_field(j, where);
  if (s.find('\0') != std::string::npos) bad(std::string(where) + " contains a NUL byte");
  return s;
}

// The parser's callback: refuses a key that appears twice in one object, as the reference's
// parser (serde) does; otherwise the last one would silently win
// ("allowed_hosts": [], "allowed_hosts": ["evil"]).
class DuplicateKeyCheck {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: keys_.emplace_back(); break;
      case json::parse_event_t::object_end: keys_.pop_back(); break;
      case json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!keys_.back().insert(key).second)
          bad("duplicate key " + quote_untrusted(key, 256) + " (at depth " + std::to_string(depth) +
              ")");
        break;
      }
      default: break;
    }
    return true;
  }

 private:
  std::vector<std::set<std::string>> keys_;
};

// An unsigned integer, or nullopt for null.
template <typename T>
std::optional<T> unsigned_field(const json& j, std::string_view where) {
  if (j.is_null()) return std::nullopt;
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0))
    bad(std::string(where) + " must be a non-negative integer or null");
  const uint64_t v = j.get<uint64_t>();
  if (v > std::numeric_limits<T>::max()) bad(std::string(where) + " is too large");
  return static_cast<T>(v);
}

WasmSource parse_source(const json& j, size_t index) {
  const std::string where = "wasm[" + std::to_string(index) + "]";
  if (!j.is_object()) bad(where + " must be an object with \"path\", \"data\" or \"url\"");
  WasmSource s;
  const int kinds = j.contains("path") + j.contains("data") + j.contains("url");
  if (kinds != 1) bad(where + " needs exactly one of \"path\", \"data\" or \"url\"");
  if (j.contains("path")) {
    only_fields(j, where, {"path", "name", "hash"});
    s.kind = WasmSource::Kind::Path;
    s.path = name_field(j["path"], where + ".path");
  } else if (j.contains("data")) {
    only_fields(j, where, {"data", "name", "hash"});
    s.kind = WasmSource::Kind::Data;
    auto bytes = base64_decode(string_field(j["data"], where + ".data"));
    if (!bytes) bad(where + ".data is not valid base64");
    s.data = std::move(*bytes);
  } else {
    only_fields(j, where, {"url", "headers", "method", "name", "hash"});
    s.kind = WasmSource::Kind::Url;
    s.url = name_field(j["url"], where + ".url");
    if (j.contains("method") && !j["method"].is_null())
      s.method = name_field(j["method"], where + ".method");
    if (j.contains("headers") && !j["headers"].is_null()) {
      if (!j["headers"].is_object()) bad(where + ".headers must be an object of strings");
      for (const auto& [k, v] : j["headers"].items())
        s.headers.emplace_back(k, name_field(v, where + ".headers." + escape_untrusted(k, 256)));
    }
  }
  if (j.contains("name") && !j["name"].is_null()) s.name = string_field(j["name"], where + ".name");
  if (j.contains("hash") && !j["hash"].is_null()) {
    std::string h = string_field(j["hash"], where + ".hash");
    if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
      bad(where + ".hash must be 64 lower-case hex digits (SHA-256)");
    s.hash = std::move(h);
  }
  return s;
}

}  // namespace

Result<Manifest, ManifestError> parse_manifest(std::string_view text) {
  try {
    json j;
    try {
      j = json::parse(text, DuplicateKeyCheck());
    } catch (const json::parse_error& e) {
      bad("not valid JSON: " + escape_untrusted(e.what(), 1024));
    }
    only_fields(j, "the top-level object",
                {"wasm", "memory", "config", "allowed_hosts", "allowed_paths", "timeout_ms"});
    Manifest m;
    if (!j.contains("wasm") || !j["wasm"].is_array() || j["wasm"].empty())
      bad("\"wasm\" must be a non-empty array of sources");
    for (size_t i = 0; i < j["wasm"].size(); ++i) m.wasm.push_back(parse_source(j["wasm"][i], i));
    if (j.contains("memory") && !j["memory"].is_null()) {
      const json& mem = j["memory"];
      only_fields(mem, "\"memory\"", {"max_pages", "max_http_response_bytes", "max_var_bytes"});
      if (mem.contains("max_pages"))
        m.max_pages = unsigned_field<uint32_t>(mem["max_pages"], "memory.max_pages");
      if (mem.contains("max_http_response_bytes"))
        m.max_http_response_bytes = unsigned_field<uint64_t>(mem["max_http_response_bytes"],
                                                             "memory.max_http_response_bytes")
                                        .value_or(50ull << 20);
      if (mem.contains("max_var_bytes"))
        m.max_var_bytes = unsigned_field<uint64_t>(mem["max_var_bytes"], "memory.max_var_bytes")
                              .value_or(1 << 20);
    }
    if (j.contains("config") && !j["config"].is_null()) {
      if (!j["config"].is_object()) bad("\"config\" must be an object of strings");
      for (const auto& [k, v] : j["config"].items())
        m.config[k] = string_field(v, "config." + escape_untrusted(k, 256));
    }
    if (j.contains("allowed_hosts") && !j["allowed_hosts"].is_null()) {
      if (!j["allowed_hosts"].is_array()) bad("\"allowed_hosts\" must be an array of strings");
      std::vector<std::string> hosts;
      for (const json& h : j["allowed_hosts"])
        hosts.push_back(name_field(h, "allowed_hosts entries"));
      m.allowed_hosts = std::move(hosts);
    }
    if (j.contains("allowed_paths") && !j["allowed_paths"].is_null()) {
      if (!j["allowed_paths"].is_object()) bad("\"allowed_paths\" must be an object of strings");
      for (const auto& [k, v] : j["allowed_paths"].items()) {
        const std::string where = "allowed_paths." + escape_untrusted(k, 256);
        if (k.find('\0') != std::string::npos) bad(where + " (the key) contains a NUL byte");
        m.allowed_paths.emplace_back(k, name_field(v, where));
      }
    }
    if (j.contains("timeout_ms"))
      m.timeout_ms = unsigned_field<uint64_t>(j["timeout_ms"], "timeout_ms");
    return m;
  } catch (const Bad& e) {
    return Failure{ManifestError{e.message}};
  } catch (const json::exception& e) {
    return Failure{ManifestError{"manifest: " + escape_untrusted(e.what(), 1024)}};
  }
}

Result<std::vector<uint8_t>, ManifestError> load_source(const WasmSource& source,
                                                        const SourceFetch& fetch) {
  std::vector<uint8_t> bytes;
  switch (source.kind) {
    case WasmSource::Kind::Data: bytes = source.data; break;
    case WasmSource::Kind::Path: {
      // Why a path does not load: missing (and relative to what), a directory, no permission.
      const std::string where = "cannot read wasm file " + escape_untrusted(source.path) + ": ";
      std::error_code ec;
      if (std::filesystem::is_directory(source.path, ec))
        return Failure{ManifestError{where + "it is a directory"}};
      std::ifstream in(source.path, std::ios::binary);
      if (!in) {
        std::string reason = std::strerror(errno);
        if (errno == ENOENT && !source.path.starts_with("/"))
          reason += " (relative paths are resolved from the current directory, " +
                    escape_untrusted(std::filesystem::current_path(ec).string()) + ")";
        return Failure{ManifestError{where + reason}};
      }
      std::ostringstream buffer;
      buffer << in.rdbuf();
      if (in.bad())
        return Failure{ManifestError{"cannot read wasm file " + escape_untrusted(source.path)}};
      const std::string s = buffer.str();
      bytes.assign(s.begin(), s.end());
      break;
    }
    case WasmSource::Kind::Url: {
      HttpRequest request{source.url, source.method, source.headers, std::nullopt};
      HttpLimits limits;
      limits.allowed_hosts = fetch.allowed_hosts;  // every hop, redirects included
      limits.max_response_bytes = fetch.max_bytes;
      limits.deadline = fetch.deadline;
      limits.cancelled = fetch.cancelled;
      const std::string url = escape_untrusted(source.url, 2048);
      if (fetch.allowed_hosts.empty())
        return Failure{
            ManifestError{"cannot fetch " + url +
                          ": no source hosts are allowed (PluginOptions::allowed_sources)"}};
      auto [response, error] = http_fetch(request, limits);
      if (error) {
        if (error->kind == HttpError::Kind::NotAllowed)
          return Failure{
              ManifestError{"cannot fetch " + url + ": the host is not an allowed source"}};
        return Failure{ManifestError{"cannot fetch " + url + ": " + error->message}};
      }
      if (response->status < 200 || response->status > 299)
        return Failure{ManifestError{"cannot fetch " + url + ": HTTP status " +
                                     std::to_string(response->status)}};
      bytes.assign(response->body.begin(), response->body.end());
      break;
    }
  }
  if (source.hash) {
    const std::string found = sha256_hex(bytes);
    if (found != *source.hash)
      return Failure{
          ManifestError{"Hash mismatch, found " + found + " but expected " + *source.hash}};
  }
  return bytes;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

}  // namespace warden::extism
