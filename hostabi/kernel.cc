#include "hostabi/kernel.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include <cstring>

#include "decoder/untrusted_text.h"
#include "vm/store.h"

namespace warden::extism {
namespace {

using enum ValType;
using Args = std::span<const Value>;
using Results = std::span<Value>;

ExecError host_error(std::string message) {
  ExecError e;
  e.kind = ExecError::Kind::Trap;
  e.trap = TrapCode::HostError;
  e.detail = std::move(message);
  return e;
}

// Going over memory.max_pages fails the call with "oom", as in the reference.
ExecError out_of_memory() {
  ExecError e;
  e.kind = ExecError::Kind::Limit;
  e.detail = "oom";
  return e;
}

ExecError timed_out() {
  ExecError e;
  e.kind = ExecError::Kind::Interrupted;
  e.detail = "timeout";
  return e;
}

// A new block holding `bytes`; 0 for empty. Fails the call when the budget is gone.
Result<uint64_t, ExecError> copy_out(Kernel& k, std::string_view bytes) {
  if (bytes.empty()) return uint64_t{0};
  const uint64_t h = k.region.alloc_copy(bytes);
  if (h == 0) {
    if (k.region.budget_exhausted()) return Failure{out_of_memory()};
    return Failure{host_error("the kernel region is full")};
  }
  return h;
}

HostResult set_handle(Results r, Result<uint64_t, ExecError> h) {
  if (!h) return Failure{std::move(h.error())};
  r[0] = Value::i64(static_cast<int64_t>(*h));
  return {};
}

uint64_t u64(const Value& v) { return v.bits; }

void log_message(Kernel& k, LogLevel level, uint64_t handle) {
  // The message is read in place (a 200 MB message costs no second copy), then freed.
  struct FreeAfter {
    Kernel& k;
    uint64_t handle;
    ~FreeAfter() { k.free_block(handle); }  // the host frees the message
  } free_after{k, handle};
  const std::string_view message = k.region.block_text(handle);
  if (k.log_level == LogLevel::Off || level < k.log_level || !k.log_sink) return;
  if (k.log_capped) return;
  const uint64_t max_log_bytes =
      k.quota.max_log_bytes_per_call.value_or(Quota::kDefaultMaxLogBytesPerCall);
  if (k.logged_bytes + message.size() > max_log_bytes) {
    k.log_capped = true;
    k.log_sink(LogLevel::Warn, "plugin log output over " + std::to_string(max_log_bytes) +
                                   " bytes in this call; further messages dropped");
    return;
  }
  k.logged_bytes += message.size();
  k.log_sink(level, sanitize_log_message(message, k.quota.max_log_message_bytes.value_or(
                                                      Quota::kDefaultMaxLogMessageBytes)));
}

// ---- the imports, one function per row of kernel_functions.def ----

HostResult fn_alloc(Kernel& k, CallContext&, Args a, Results r) {
  const uint64_t n = u64(a[0]);
  uint64_t h = k.region.alloc(n);
  if (h == 0 && n != 0 && k.region.budget_exhausted()) return Failure{out_of_memory()};
  r[0] = Value::i64(static_cast<int64_t>(h));
  return {};
}
HostResult fn_free(Kernel& k, CallContext&, Args a, Results) {
  k.free_block(u64(a[0]));
  return {};
}
HostResult fn_length(Kernel& k, CallContext&, Args a, Results r) {
  r[0] = Value::i64(static_cast<int64_t>(k.region.length(u64(a[0]))));
  return {};
}
HostResult fn_length_unsafe(Kernel& k, CallContext& c, Args a, Results r) {
  return fn_length(k, c, a, r);  // the safe answer is cheap here
}
HostResult fn_load_u8(Kernel& k, CallContext&, Args a, Results r) {
  const uint64_t p = u64(a[0]);
  r[0] = Value::i32(k.region.in_bounds(p, 1) ? *k.region.at(p) : 0);
  return {};
}
HostResult fn_load_u64(Kernel& k, CallContext&, Args a, Results r) {
  const uint64_t p = u64(a[0]);
  uint64_t v = 0;
  if (k.region.in_bounds(p, 8)) std::memcpy(&v, k.region.at(p), 8);
  r[0] = Value::i64(static_cast<int64_t>(v));
  return {};
}
HostResult fn_store_u8(Kernel& k, CallContext&, Args a, Results) {
  const uint64_t p = u64(a[0]);
  if (k.region.in_bounds(p, 1)) *k.region.at(p) = static_cast<uint8_t>(a[1].bits);
  return {};
}
HostResult fn_store_u64(Kernel& k, CallContext&, Args a, Results) {
  const uint64_t p = u64(a[0]);
  if (k.region.in_bounds(p, 8)) std::memcpy(k.region.at(p), &a[1].bits, 8);
  return {};
}
HostResult fn_input_length(Kernel& k, CallContext&, Args, Results r) {
  r[0] = Value::i64(static_cast<int64_t>(k.input_length));
  return {};
}
HostResult fn_input_offset(Kernel& k, CallContext&, Args, Results r) {
  r[0] = Value::i64(static_cast<int64_t>(k.input_handle));
  return {};
}
HostResult fn_input_load_u8(Kernel& k, CallContext&, Args a, Results r) {
  const uint64_t off = u64(a[0]);
  r[0] = Value::i32(off < k.input_length ? *k.region.at(k.input_handle + off) : 0);
  return {};
}
HostResult fn_input_load_u64(Kernel& k, CallContext&, Args a, Results r) {
  const uint64_t off = u64(a[0]);
  uint64_t v = 0;
  if (k.input_length >= 8 && off <= k.input_length - 8)
    std::memcpy(&v, k.region.at(k.input_handle + off), 8);
  r[0] = Value::i64(static_cast<int64_t>(v));
  return {};
}
HostResult fn_output_set(Kernel& k, CallContext&, Args a, Results) {
  k.output_handle = u64(a[0]);
  k.output_length = u64(a[1]);
  return {};
}
HostResult fn_error_set(Kernel& k, CallContext&, Args a, Results) {
  k.error_handle = u64(a[0]);
  return {};
}
HostResult fn_error_get(Kernel& k, CallContext&, Args, Results r) {
  r[0] = Value::i64(static_cast<int64_t>(k.error_handle));
  return {};
}
HostResult fn_config_get(Kernel& k, CallContext&, Args a, Results r) {
  auto it = k.config.find(k.region.block_text(u64(a[0])));  // looked up in place, not copied
  k.free_block(u64(a[0]));
  return set_handle(r, copy_out(k, it == k.config.end() ? std::string_view{} : it->second));
}
HostResult fn_var_get(Kernel& k, CallContext&, Args a, Results r) {
  auto it = k.vars.find(k.region.block_text(u64(a[0])));
  k.free_block(u64(a[0]));
  return set_handle(r, copy_out(k, it == k.vars.end() ? std::string_view{} : it->second));
}
HostResult fn_var_set(Kernel& k, CallContext&, Args a, Results) {
  std::optional<std::string_view> value;
  if (u64(a[1]) != 0) value = k.region.block_text(u64(a[1]));
  if (auto refused = k.set_var(k.region.block_text(u64(a[0])), value)) {
    k.var_refused = true;
    return Failure{host_error(std::string(*refused))};
  }
  return {};
}

HostResult fn_http_request(Kernel& k, CallContext& ctx, Args a, Results r) {
  HttpRequest request;
  const std::string_view description = k.region.block_text(u64(a[0]));
  // A parsed JSON document can be many times its text: the request's description is bounded.
  constexpr size_t kMaxRequestJson = 1 << 20;
  if (description.size() > kMaxRequestJson)
    return Failure{host_error("invalid HTTP request: its JSON is over 1 MiB")};
  try {
    const auto json = nlohmann::json::parse(description);
    request.url = json.at("url").get<std::string>();
    if (json.contains("method") && !json["method"].is_null())
      request.method = json["method"].get<std::string>();
    if (json.contains("headers") && !json["headers"].is_null())
      for (const auto& [name, value] : json["headers"].items())
        request.headers.emplace_back(name, value.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return Failure{host_error("invalid HTTP request: " + escape_untrusted(e.what(), 1024))};
  }
  if (u64(a[1]) != 0) request.body = k.region.block_text(u64(a[1]));  // sent in place
  HttpLimits limits;
  limits.allowed_hosts = k.allowed_hosts ? *k.allowed_hosts : std::vector<std::string>{};
  limits.max_response_bytes =
      k.quota.max_http_response_bytes.value_or(Quota::kDefaultMaxHttpResponseBytes);
  // Egress per call: the body is counted before it is sent, the response is cut at what is left.
  if (const auto& egress = k.quota.http_egress_bytes_per_call) {
    const uint64_t request_body_size = request.body ? request.body->size() : 0;
    if (request_body_size > *egress - std::min(*egress, k.egress_bytes)) {
      k.egress_refused = true;
      return Failure{host_error("policy: HTTP request body of " +
                                std::to_string(request_body_size) +
                                " bytes is over what is left of "
                                "http_egress_bytes_per_call (" +
                                std::to_string(*egress) + " bytes per call)")};
    }
    k.egress_bytes += request_body_size;
    limits.max_response_bytes =
        std::min<uint64_t>(limits.max_response_bytes, *egress - k.egress_bytes);
  }
  limits.deadline = k.deadline;
  Store* store = &ctx.store;
  limits.cancelled = [store] { return store->interrupt_pending(); };
  auto [response, error] = http_fetch(request, limits);
  if (error) {
    if (error->kind == HttpError::Kind::Timeout) return Failure{timed_out()};
    if (error->kind == HttpError::Kind::NotAllowed) k.blocked_host = error->host;
    if (k.quota.http_egress_bytes_per_call && error->kind == HttpError::Kind::TooLarge) {
      k.egress_refused = true;
      return Failure{
          host_error("policy: HTTP response over what is left of "
                     "http_egress_bytes_per_call (" +
                     std::to_string(*k.quota.http_egress_bytes_per_call) +
                     " bytes per call): " + error->message)};
    }
    return Failure{host_error(error->message)};
  }
  k.egress_bytes += response->body.size();
  {
    const uint64_t bytes = (request.body ? request.body->size() : 0) + response->body.size();
    std::string host = escape_untrusted(url_host(request.url).value_or("(no host)"), 256);
    auto it = std::find_if(k.egress_by_host.begin(), k.egress_by_host.end(),
                           [&](const auto& e) { return e.first == host; });
    if (it == k.egress_by_host.end() && k.egress_by_host.size() >= 16) {
      host = "_other";
      it = std::find_if(k.egress_by_host.begin(), k.egress_by_host.end(),
                        [&](const auto& e) { return e.first == host; });
    }
    if (it == k.egress_by_host.end())
      k.egress_by_host.emplace_back(std::move(host), bytes);
    else
      it->second += bytes;
  }
  k.http_status = response->status;
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : response->headers) {
    auto& slot = headers[name];
    slot = slot.is_string() ? slot.get<std::string>() + ", " + value : value;
  }
  k.http_headers_json = headers.dump();
  return set_handle(r, copy_out(k, response->body));
}
HostResult fn_http_status_code(Kernel& k, CallContext&, Args, Results r) {
  r[0] = Value::i32(k.http_status);
  return {};
}
HostResult fn_http_headers(Kernel& k, CallContext&, Args, Results r) {
  if (!k.http_response_headers || k.http_status == 0) {
    r[0] = Value::i64(0);
    return {};
  }
  return set_handle(r, copy_out(k, k.http_headers_json));
}

#define LOG_FUNCTION(name, level)                                  \
  HostResult fn_##name(Kernel& k, CallContext&, Args a, Results) { \
    log_message(k, LogLevel::level, u64(a[0]));                    \
    return {};                                                     \
  }
LOG_FUNCTION(log_trace, Trace)
LOG_FUNCTION(log_debug, Debug)
LOG_FUNCTION(log_info, Info)
LOG_FUNCTION(log_warn, Warn)
LOG_FUNCTION(log_error, Error)
#undef LOG_FUNCTION
HostResult fn_get_log_level(Kernel& k, CallContext&, Args, Results r) {
  r[0] = Value::i32(static_cast<int32_t>(k.log_level));
  return {};
}

// Each row's implementation as a plain function of the kernel (no std::function per call).
template <HostResult (*F)(Kernel&, CallContext&, Args, Results)>
HostResult thunk(void* kernel, CallContext& ctx, Args a, Results r) {
  return F(*static_cast<Kernel*>(kernel), ctx, a, r);
}

}  // namespace

std::optional<std::string_view> Kernel::set_var(std::string_view key,
                                                std::optional<std::string_view> value) {
  if (max_var_bytes() == 0) return "Vars are disabled by this host";
  constexpr uint64_t kEntryOverhead = 48;  // the reference's per-entry bookkeeping
  uint64_t total = var_bytes;
  auto it = vars.find(key);
  if (it != vars.end()) total -= key.size() + it->second.size() + kEntryOverhead;
  if (!value) {
    if (it != vars.end()) vars.erase(it);
    var_bytes = total;
    return std::nullopt;
  }
  // Checked before anything is copied: a 1 GB key costs nothing.
  total += key.size() + value->size() + kEntryOverhead;
  if (total > max_var_bytes()) return "Variable store is full";
  if (it != vars.end()) {
    it->second.assign(*value);
  } else {
    vars.emplace(std::string(key), std::string(*value));
  }
  var_bytes = total;
  return std::nullopt;
}

void Kernel::clear_blocks() {
  region.reset();
  input_handle = input_length = 0;
  error_handle = output_handle = output_length = 0;
}

bool Kernel::begin_call(std::span<const uint8_t> input) {
  clear_blocks();
  logged_bytes = 0;
  egress_bytes = 0;
  egress_refused = false;
  var_refused = false;
  blocked_host.clear();
  egress_by_host.clear();
  log_capped = false;
  input_length = input.size();
  input_handle = input.empty() ? 0 : region.alloc_copy(input);
  if (!input.empty() && input_handle == 0) {
    input_length = 0;
    return false;
  }
  return true;
}

std::optional<std::string> Kernel::error_message() const {
  if (error_handle == 0) return std::nullopt;
  if (region.length(error_handle) == 0)
    return std::string("plugin set an error with an invalid handle");
  // The plugin's own text: escaped (it reaches terminals and logs) and capped.
  return escape_untrusted(region.block_text(error_handle), kMaxErrorMessageBytes);
}

std::optional<std::string_view> Kernel::output() const {
  if (output_length == 0) return std::string_view();
  if (!region.in_bounds(output_handle, output_length)) return std::nullopt;
  return region.text(output_handle, output_length);
}

void Kernel::free_block(uint64_t handle) {
  if (handle == 0) return;
  if (handle == input_handle && region.length(handle) != 0) input_handle = input_length = 0;
  region.free(handle);
}

void add_kernel_impls(HostImpls& impls, Kernel& kernel) {
#define KERNEL_FUNCTION(Name, ...) \
  impls.add(kEnvModule, #Name, HostImpl{&thunk<&fn_##Name>, &kernel, {}});
#include "hostabi/kernel_functions.def"
#undef KERNEL_FUNCTION
}

void define_kernel(Linker& linker, Kernel& kernel, bool metered) {
  HostImpls impls;
  add_kernel_impls(impls, kernel);
  link_all(linker, kEnvModule, impls, metered);
}

}  // namespace warden::extism
