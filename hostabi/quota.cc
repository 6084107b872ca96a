#include "hostabi/quota.h"

#include <algorithm>

namespace warden::extism {
namespace {

template <typename T>
void tighter(std::optional<T>& mine, const std::optional<T>& theirs) {
  if (theirs && (!mine || *theirs < *mine)) mine = theirs;
}

}  // namespace

Quota& Quota::narrow(const Quota& other) {
  tighter(memory_bytes, other.memory_bytes);
  tighter(fuel_per_call, other.fuel_per_call);
  tighter(timeout, other.timeout);
  tighter(cpu_seconds_per_call, other.cpu_seconds_per_call);
  tighter(concurrent_calls, other.concurrent_calls);
  tighter(max_output_bytes, other.max_output_bytes);
  tighter(max_log_message_bytes, other.max_log_message_bytes);
  tighter(max_log_bytes_per_call, other.max_log_bytes_per_call);
  tighter(max_var_bytes, other.max_var_bytes);
  tighter(max_http_response_bytes, other.max_http_response_bytes);
  tighter(http_egress_bytes_per_call, other.http_egress_bytes_per_call);
  for (const auto& [capability, rate] : other.host_calls_per_second) {
    auto [it, inserted] = host_calls_per_second.emplace(capability, rate);
    if (!inserted) it->second = std::min(it->second, rate);
  }
  return *this;
}

}  // namespace warden::extism
