// Quota: every limit on one plugin, in one place. A policy (policy/) fills it from a tier and the
// plugin's document; an embedder may set it directly in PluginOptions; a manifest can narrow it
// (memory.max_pages, memory.max_var_bytes, memory.max_http_response_bytes, timeout_ms) but never
// widen it. An unset field is "no limit from here" (the Extism defaults then apply where the
// reference has one: 1 MiB of vars, 50 MiB HTTP responses, 16 KiB log messages, 1 MiB of logs
// per call).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace warden::extism {

struct Quota {
  std::optional<uint64_t> memory_bytes;  // memories, tables, kernel region and bookkeeping
  std::optional<uint64_t> fuel_per_call;
  std::optional<std::chrono::milliseconds> timeout;  // wall time per call
  std::optional<double> cpu_seconds_per_call;        // the calling thread's CPU time
  std::optional<uint32_t> concurrent_calls;          // per plugin id, across all instances
  std::optional<uint64_t> max_output_bytes;
  std::optional<uint64_t> max_log_message_bytes;   // longer messages are cut
  std::optional<uint64_t> max_log_bytes_per_call;  // then one notice, then silence
  std::optional<uint64_t> max_var_bytes;
  std::optional<uint64_t> max_http_response_bytes;
  std::optional<uint64_t> http_egress_bytes_per_call;  // request bodies sent + responses received
  std::map<std::string, double, std::less<>> host_calls_per_second;  // per capability

  // Each field becomes the tighter of the two.
  Quota& narrow(const Quota& other);

  // The Extism defaults for the fields that have one.
  static constexpr uint64_t kDefaultMaxVarBytes = 1 << 20;
  static constexpr uint64_t kDefaultMaxHttpResponseBytes = 50ull << 20;
  static constexpr uint64_t kDefaultMaxLogMessageBytes = 16 << 10;
  static constexpr uint64_t kDefaultMaxLogBytesPerCall = 1 << 20;
};

}  // namespace warden::extism
