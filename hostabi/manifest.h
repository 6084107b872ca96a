// The Extism JSON manifest: which Wasm modules make a plugin, and the limits and capabilities it
// gets. Every field of the reference is read with its default; an unknown field is an error, so a
// misspelt limit never silently becomes "no limit".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decoder/result.h"

namespace warden::extism {

struct ManifestError {
  std::string message;  // "manifest: unknown field \"memroy\" in the top level object ..."
};

struct WasmSource {
  enum class Kind { Path, Data, Url } kind = Kind::Data;
  std::string path;            // Kind::Path
  std::vector<uint8_t> data;   // Kind::Data (already decoded from base64)
  std::string url;             // Kind::Url
  std::string method = "GET";  // Kind::Url
  std::vector<std::pair<std::string, std::string>> headers;  // Kind::Url
  std::optional<std::string> name;  // module name for linking; unnamed = "main"
  std::optional<std::string> hash;  // lower-case hex SHA-256 of the bytes

  std::string module_name() const { return name.value_or("main"); }
};

struct Manifest {
  std::vector<WasmSource> wasm;
  std::optional<uint32_t> max_pages;  // memory.max_pages: growth budget; none = unlimited
  uint64_t max_http_response_bytes = 50ull << 20;
  uint64_t max_var_bytes = 1 << 20;
  std::map<std::string, std::string> config;
  std::optional<std::vector<std::string>> allowed_hosts;           // none = deny every request
  std::vector<std::pair<std::string, std::string>> allowed_paths;  // host ("ro:" prefix) -> guest
  std::optional<uint64_t> timeout_ms;
};

Result<Manifest, ManifestError> parse_manifest(std::string_view json);

// How URL sources may be fetched: only from these hosts (globs, as allowed_hosts; empty = no URL
// source is fetched), within a deadline and a byte cap, and stopping when `cancelled` says so.
struct SourceFetch {
  std::vector<std::string> allowed_hosts;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::function<bool()> cancelled;
  uint64_t max_bytes = 256ull << 20;
};

// The bytes of a source: read, decoded or fetched (libcurl), then checked against its hash:
// "Hash mismatch, found X but expected Y".
Result<std::vector<uint8_t>, ManifestError> load_source(const WasmSource& source,
                                                        const SourceFetch& fetch = {});

std::string sha256_hex(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace warden::extism
