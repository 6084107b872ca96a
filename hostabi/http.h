// HTTP for plugins (Extism's http_request) and for manifest sources given by URL, over libcurl.
// Every hop of a request, redirects included, must go to an allowed host; the response body is
// capped while it streams; the call's remaining time bounds the whole exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::extism {

struct HttpRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string_view> body;  // must stay valid until http_fetch returns
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, last hop only
};

struct HttpLimits {
  // Globs on the host name (`*`, `?`, `[...]`); nullopt = any host (manifest downloads only);
  // an empty list denies everything.
  std::optional<std::vector<std::string>> allowed_hosts;
  uint64_t max_response_bytes = 50ull << 20;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::function<bool()> cancelled;  // polled while the transfer runs
  int max_redirects = 10;
};

struct HttpError {
  enum class Kind { NotAllowed, Invalid, TooLarge, Timeout, Failed } kind;
  std::string message;
  std::string host{};  // NotAllowed: the host refused (escaped), for the gate's record
};

// Performs the request. Failures: "HTTP request to URL is not allowed", "timeout", a response
// over the cap, or the transport's own error.
std::pair<std::optional<HttpResponse>, std::optional<HttpError>> http_fetch(
    const HttpRequest& request, const HttpLimits& limits);

using HttpFetcher = std::function<decltype(http_fetch)>;

// fnmatch-style glob over a host name, case-insensitive.
bool host_matches(std::string_view glob, std::string_view host);
// The host part of a URL (no scheme, user or port), lower-cased; nullopt if it does not parse.
std::optional<std::string> url_host(const std::string& url);

}  // namespace warden::extism
