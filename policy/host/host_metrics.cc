#include "policy/host/host_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <set>

#include "decoder/untrusted_text.h"

namespace warden::host {

namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// A label value from a plugin or a caller: escaped (no control bytes, valid UTF-8) and short.
std::string label(std::string_view value) { return escape_untrusted(value, 128); }

// Which reason of a quota refusal: the quota's key, named in every refusal's message.
std::string_view quota_reason(const std::string& message) {
  for (std::string_view key : {"cpu_seconds_per_call", "concurrent_calls", "max_output_bytes",
                               "http_egress_bytes_per_call", "host_calls_per_second"})
    if (message.find(key) != std::string::npos) return key;
  if (message.find("output of") != std::string::npos) return "max_output_bytes";
  if (message.find("HTTP") != std::string::npos) return "http_egress_bytes_per_call";
  return "other";
}
}  // namespace

struct HostMetrics::Impl {
  size_t max_tenants, max_functions;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& calls = BuildCounter()
                               .Name("extism_plugin_calls_total")
                               .Help("Plugin calls by plugin, function and status")
                               .Register(*registry);
  Family<Histogram>& duration = BuildHistogram()
                                    .Name("extism_plugin_call_duration_ms")
                                    .Help("Plugin call duration in milliseconds")
                                    .Register(*registry);
  Family<Counter>& timeouts = BuildCounter()
                                  .Name("extism_plugin_timeout_total")
                                  .Help("Plugin calls stopped by their deadline or a cancel")
                                  .Register(*registry);
  Family<Gauge>& pages_used =
      BuildGauge()
          .Name("extism_plugin_memory_pages_used")
          .Help("Linear memory pages of the tenant's instance after its last call")
          .Register(*registry);
  Family<Counter>& host_calls = BuildCounter()
                                    .Name("extism_host_function_calls_total")
                                    .Help(
                                        "Host function calls by status: ok, error (the function "
                                        "failed) or the gate's refusal")
                                    .Register(*registry);
  Family<Counter>& integrity = BuildCounter()
                                   .Name("extism_plugin_integrity_failures_total")
                                   .Help("Plugin versions refused for their signature")
                                   .Register(*registry);
  Family<Counter>& oversized = BuildCounter()
                                   .Name("extism_plugin_output_oversized_total")
                                   .Help("Calls refused for an output over max_output_bytes")
                                   .Register(*registry);
  Family<Counter>& blocked = BuildCounter()
                                 .Name("extism_plugin_blocked_host_requests_total")
                                 .Help("HTTP requests to hosts the plugin may not reach")
                                 .Register(*registry);
  Family<Counter>& egress_bytes =
      BuildCounter()
          .Name("plugin_egress_bytes_total")
          .Help("HTTP bytes (request and response bodies) by target host")
          .Register(*registry);
  Family<Counter>& invocations = BuildCounter()
                                     .Name("plugin_invocations_total")
                                     .Help("Plugin invocations by plugin, tier and outcome")
                                     .Register(*registry);
  Family<Counter>& api_calls = BuildCounter()
                                   .Name("plugin_host_api_calls_total")
                                   .Help("Host API calls, allowed by the gate or not")
                                   .Register(*registry);
  Family<Counter>& cpu = BuildCounter()
                             .Name("plugin_cpu_seconds_total")
                             .Help("Thread CPU time spent in plugin calls")
                             .Register(*registry);
  Family<Gauge>& pages = BuildGauge()
                             .Name("plugin_memory_pages")
                             .Help("Linear memory pages of the plugin's last call")
                             .Register(*registry);
  Family<Gauge>& memory_limit =
      BuildGauge()
          .Name("plugin_memory_limit_pages")
          .Help("The memory quota of the plugin's active version, in pages")
          .Register(*registry);
  Family<Gauge>& cpu_limit =
      BuildGauge()
          .Name("plugin_cpu_seconds_per_call_limit")
          .Help("The cpu_seconds_per_call quota of the plugin's active version")
          .Register(*registry);
  Family<Counter>& quota = BuildCounter()
                               .Name("plugin_quota_rejected_total")
                               .Help("Calls refused by a quota, by reason")
                               .Register(*registry);
  Family<Counter>& supply_chain = BuildCounter()
                                      .Name("plugin_supply_chain_violation_total")
                                      .Help("Plugin versions refused at admission, by type")
                                      .Register(*registry);
  Family<Counter>& rollouts = BuildCounter()
                                  .Name("plugin_rollout_events_total")
                                  .Help("Rollout steps of plugin versions, by action")
                                  .Register(*registry);

  std::mutex mutex;  // guards the bounded label sets
  std::set<std::string, std::less<>> tenants, functions, hosts;

  // `value` as a label of a bounded set: itself while the set has room, else "_other".
  std::string bounded(std::set<std::string, std::less<>>& set, size_t max, std::string_view v) {
    std::string value = label(v);
    std::lock_guard lock(mutex);
    if (set.count(value)) return value;
    if (set.size() >= max) return "_other";
    set.insert(value);
    return value;
  }
};

HostMetrics::HostMetrics(size_t max_tenants, size_t max_functions)
    : impl_(std::make_unique<Impl>()) {
  impl_->max_tenants = max_tenants;
  impl_->max_functions = max_functions;
}

HostMetrics::~HostMetrics() = default;

void HostMetrics::call(const CallObservation& c) {
  Impl& m = *impl_;
  const std::string plugin = label(c.plugin_id);
  const std::string function = m.bounded(m.functions, m.max_functions, c.function);
  const std::string status(c.error ? host_error_kind_name(c.error->kind) : "ok");
  m.calls.Add({{"plugin", plugin}, {"function", function}, {"status", status}}).Increment();
  static const Histogram::BucketBoundaries buckets{0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000};
  m.duration.Add({{"plugin", plugin}}, buckets).Observe(c.duration_ms);
  m.invocations.Add({{"plugin_id", plugin}, {"tier", label(c.tier)}, {"outcome", status}})
      .Increment();
  m.cpu.Add({{"plugin_id", plugin}}).Increment(c.cpu_seconds);
  if (c.memory_pages) {
    m.pages_used
        .Add({{"plugin", plugin}, {"tenant", m.bounded(m.tenants, m.max_tenants, c.tenant_id)}})
        .Set(static_cast<double>(c.memory_pages));
    m.pages.Add({{"plugin_id", plugin}}).Set(static_cast<double>(c.memory_pages));
  }
  if (!c.error) return;
  if (c.error->kind == HostError::Kind::Timeout) m.timeouts.Add({{"plugin", plugin}}).Increment();
  if (c.error->kind == HostError::Kind::Quota) {
    const std::string_view reason = quota_reason(c.error->message);
    m.quota.Add({{"plugin_id", plugin}, {"reason", std::string(reason)}}).Increment();
    if (reason == "max_output_bytes") m.oversized.Add({{"plugin", plugin}}).Increment();
  }
}

void HostMetrics::denial(std::string_view plugin_id, std::string_view host_function,
                         std::string_view kind) {
  Impl& m = *impl_;
  const std::string plugin = label(plugin_id), function = label(host_function);
  m.host_calls.Add({{"function", function}, {"plugin", plugin}, {"status", std::string(kind)}})
      .Increment();
  m.api_calls.Add({{"plugin_id", plugin}, {"function", function}, {"allowed", "false"}})
      .Increment();
}

void HostMetrics::host_calls(std::string_view plugin_id, std::string_view host_function,
                             uint64_t calls, uint64_t errors) {
  Impl& m = *impl_;
  const std::string plugin = label(plugin_id), function = label(host_function);
  if (calls > errors)
    m.host_calls.Add({{"function", function}, {"plugin", plugin}, {"status", "ok"}})
        .Increment(static_cast<double>(calls - errors));
  if (errors)
    m.host_calls.Add({{"function", function}, {"plugin", plugin}, {"status", "error"}})
        .Increment(static_cast<double>(errors));
  m.api_calls.Add({{"plugin_id", plugin}, {"function", function}, {"allowed", "true"}})
      .Increment(static_cast<double>(calls));
}

void HostMetrics::egress(std::string_view plugin_id, std::string_view host, uint64_t bytes) {
  Impl& m = *impl_;
  m.egress_bytes
      .Add({{"plugin_id", label(plugin_id)}, {"target", m.bounded(m.hosts, m.max_tenants, host)}})
      .Increment(static_cast<double>(bytes));
}

void HostMetrics::blocked_host(std::string_view plugin_id, std::string_view host) {
  Impl& m = *impl_;
  // Hosts come from plugins: bounded like tenants.
  m.blocked.Add({{"plugin", label(plugin_id)}, {"host", m.bounded(m.hosts, m.max_tenants, host)}})
      .Increment();
}

void HostMetrics::supply_chain_violation(std::string_view plugin_id, std::string_view type) {
  Impl& m = *impl_;
  const std::string plugin = label(plugin_id);
  m.supply_chain.Add({{"plugin_id", plugin}, {"type", std::string(type)}}).Increment();
  if (type == "signature") m.integrity.Add({{"plugin", plugin}}).Increment();
}

void HostMetrics::limits(std::string_view plugin_id, uint64_t memory_pages,
                         double cpu_seconds_per_call) {
  Impl& m = *impl_;
  const std::string plugin = label(plugin_id);
  if (memory_pages)
    m.memory_limit.Add({{"plugin_id", plugin}}).Set(static_cast<double>(memory_pages));
  if (cpu_seconds_per_call > 0) m.cpu_limit.Add({{"plugin_id", plugin}}).Set(cpu_seconds_per_call);
}

void HostMetrics::rollout(std::string_view plugin_id, std::string_view action) {
  impl_->rollouts.Add({{"plugin_id", label(plugin_id)}, {"action", std::string(action)}})
      .Increment();
}

std::string HostMetrics::text() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace warden::host
