// The Extism kernel: the state behind `extism:host/env` for one plugin instance, and the linker
// definitions of its imports (from kernel_functions.def). The Plugin drives the call lifecycle;
// this file is what a plugin can see and do through the ABI.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostabi/host_link.h"
#include "hostabi/host_table.h"
#include "hostabi/http.h"
#include "hostabi/kernel_region.h"
#include "hostabi/log.h"
#include "hostabi/quota.h"
#include "vm/linker.h"

namespace warden::extism {

class Kernel {
 public:
  explicit Kernel(MemoryBudget* budget) : region(budget) {}

  // Step 3 of a call: every old handle dies, the error is cleared, the input is copied in.
  // False when the input does not fit (the memory budget).
  bool begin_call(std::span<const uint8_t> input);
  // Every block freed (handles die; input, output and error with them): begin_call's first step,
  // and the host's reset.
  void clear_blocks();

  // What the call left behind.
  // Set by error_set: escaped, at most kMaxErrorMessageBytes of the plugin's bytes.
  std::optional<std::string> error_message() const;
  static constexpr size_t kMaxErrorMessageBytes = 64 << 10;
  // The output bytes [output_handle, +output_length), in place in the region (valid until the
  // next call); nullopt when they are out of bounds.
  std::optional<std::string_view> output() const;
  // Frees a block for every caller (free, and the imports that consume their argument block),
  // keeping the input's bookkeeping: a freed input is no longer readable by input_load_*.
  void free_block(uint64_t handle);

  KernelRegion region;
  uint64_t input_handle = 0, input_length = 0;
  uint64_t output_handle = 0, output_length = 0;
  uint64_t error_handle = 0;

  // Persistent between calls.
  std::map<std::string, std::string, std::less<>> config;
  std::map<std::string, std::string, std::less<>> vars;
  uint64_t var_bytes = 0;  // key + value + 48 per entry, as the reference counts
  // The plugin's limits (memory.max_var_bytes, HTTP, logs, egress), the manifest's narrowing
  // already applied.
  Quota quota;
  uint64_t max_var_bytes() const {
    return quota.max_var_bytes.value_or(Quota::kDefaultMaxVarBytes);
  }
  // var_set's rule, for the plugin and the host alike: nullopt removes the key; refused, with the
  // reference's message, when vars are disabled or the store would go over max_var_bytes.
  std::optional<std::string_view> set_var(std::string_view key,
                                          std::optional<std::string_view> value);

  // Logging.
  LogLevel log_level = LogLevel::Off;
  LogSink log_sink;
  size_t logged_bytes = 0;      // this call
  uint64_t egress_bytes = 0;    // this call: HTTP request bodies sent and responses received
  bool egress_refused = false;  // this call went over http_egress_bytes_per_call
  bool var_refused = false;     // this call's var_set was over max_var_bytes (or vars are off)
  std::string blocked_host;     // this call's HTTP request to a host not allowed (escaped)
  // This call's HTTP bytes (request and response bodies) per host (escaped; at most 16 hosts,
  // the rest under "_other"), for the host's egress metrics.
  std::vector<std::pair<std::string, uint64_t>> egress_by_host;
  bool log_capped = false;

  // HTTP.
  std::optional<std::vector<std::string>> allowed_hosts;  // nullopt/empty = deny all
  bool http_response_headers = false;
  int32_t http_status = 0;
  std::string http_headers_json;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // of the running call
  void* host_context = nullptr;  // the running call's CallOptions::host_context
};

// The implementations of the `extism:host/env` rows for `kernel` (which must outlive every
// instance linked with them); hostabi/host_link.h links them.
void add_kernel_impls(HostImpls& impls, Kernel& kernel);
// Every `extism:host/env` row for `kernel`, through the gate with everything granted (for tests
// and fuzzers that link a kernel without a Plugin).
void define_kernel(Linker& linker, Kernel& kernel, bool metered);

}  // namespace warden::extism
