#include "hostabi/http.h"
#include "decoder/untrusted_text.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace warden::extism {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool glob(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '[') {
      // Character class: [abc], [a-z], [!x] / [^x].
      size_t j = pi + 1;
      bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
      if (negate) ++j;
      bool matched = false, closed = false;
      for (bool first = true; j < p.size(); first = false) {
        if (p[j] == ']' && !first) {
          closed = true;
          break;
        }
        if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
          matched |= s[si] >= p[j] && s[si] <= p[j + 2];
          j += 3;
        } else {
          matched |= s[si] == p[j];
          ++j;
        }
      }
      if (closed && matched != negate) {
        pi = j + 1;
        ++si;
        continue;
      }
      if (!closed && s[si] == '[') {  // an unclosed '[' is a literal
        ++pi, ++si;
        continue;
      }
    } else if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi, ++si;
      continue;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
      continue;
    }
    if (star == std::string_view::npos) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpLimits* limits;
  HttpResponse response;
  bool too_large = false;
  bool cancelled = false;
  uint64_t header_bytes = 0;  // of this exchange, all hops
  bool headers_too_large = false;
};

// Response headers are kept (for http_headers): a server sending them without end is cut off.
constexpr uint64_t kMaxHeaderBytes = 1 << 20;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->response.body.size() + n > t->limits->max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer: the cap holds while streaming
  }
  t->response.body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  t->header_bytes += line.size();
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer
  }
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new hop (or 100-continue): keep only the last response's
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->response.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  }
  return size * count;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->limits->cancelled && t->limits->cancelled()) {
    t->cancelled = true;
    return 1;
  }
  return 0;
}

// RFC 9110 token characters (methods and field names).
bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  }
  return true;
}

// What a request may contain, checked before libcurl sees it: CR or LF in a method, header or
// URL would smuggle headers or whole requests to the allowed host, and a NUL would cut them.
std::optional<std::string> request_problem(const HttpRequest& request) {
  if (!is_token(request.method))
    return "invalid HTTP method " + quote_untrusted(request.method, 64) +
           ": a method is a token (RFC 9110)";
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name))
      return "invalid HTTP header name " + quote_untrusted(name, 64) +
             ": a field name is a token (RFC 9110)";
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return "invalid value for HTTP header " + quote_untrusted(name, 64) +
             ": CR, LF and NUL are not allowed";
  }
  for (char c : request.url) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == ' ')
      return "invalid URL " + quote_untrusted(request.url, 256) +
             ": control characters and spaces are not allowed";
  }
  return std::nullopt;
}

bool allowed(const HttpLimits& limits, const std::string& host) {
  if (!limits.allowed_hosts) return true;
  return std::any_of(limits.allowed_hosts->begin(), limits.allowed_hosts->end(),
                     [&](const std::string& g) { return host_matches(g, host); });
}

}  // namespace

bool host_matches(std::string_view pattern, std::string_view host) {
  return glob(lower(pattern), lower(host));
}

std::optional<std::string> url_host(const std::string& url) {
  curl_global();
  CURLU* u = curl_url();
  std::optional<std::string> out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
      std::string h = lower(host);
      // IPv6 literals come bracketed; allowed_hosts names them without brackets.
      if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
      out = h;
      curl_free(host);
    }
  }
  curl_url_cleanup(u);
  return out;
}

std::pair<std::optional<HttpResponse>, std::optional<HttpError>> http_fetch(
    const HttpRequest& request, const HttpLimits& limits) {
  curl_global();
  auto fail = [](HttpError::Kind kind, std::string message) {
    return std::pair<std::optional<HttpResponse>, std::optional<HttpError>>{
        std::nullopt, HttpError{kind, std::move(message)}};
  };
  if (auto problem = request_problem(request)) return fail(HttpError::Kind::Invalid, *problem);
  std::string url = request.url;
  std::string method = request.method;
  std::optional<std::string_view> body = request.body;
  for (int hop = 0;; ++hop) {
    const auto host = url_host(url);
    if (!host || !allowed(limits, *host)) {
      auto refused = fail(HttpError::Kind::NotAllowed,
                          "HTTP request to " + escape_untrusted(url, 2048) + " is not allowed");
      refused.second->host = host ? escape_untrusted(*host, 256) : std::string("(no host)");
      return refused;
    }

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return fail(HttpError::Kind::Failed, "HTTP client could not start");
    Transfer t{&limits, {}, false, false, 0, false};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // followed below, each hop checked
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (limits.max_response_bytes < (uint64_t{1} << 62))
      curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(limits.max_response_bytes));
    if (limits.deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *limits.deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return fail(HttpError::Kind::Timeout, "timeout");
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    }
    curl_slist* header_list = nullptr;
    for (const auto& [name, value] : request.headers)
      header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(header_list);
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED)
      return fail(HttpError::Kind::TooLarge,
                  "HTTP response body exceeds max_http_response_bytes (" +
                      std::to_string(limits.max_response_bytes) + " bytes)");
    if (t.headers_too_large)
      return fail(HttpError::Kind::TooLarge, "HTTP response headers exceed 1 MiB");
    if (t.cancelled || rc == CURLE_OPERATION_TIMEDOUT)
      return fail(HttpError::Kind::Timeout, "timeout");
    if (rc != CURLE_OK)
      return fail(HttpError::Kind::Failed, "HTTP request to " + escape_untrusted(url, 2048) +
                                               " failed: " + curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = static_cast<int>(status);
    char* location = nullptr;
    if (status >= 300 && status < 400 && status != 304 &&
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
      if (hop >= limits.max_redirects)
        return fail(HttpError::Kind::Failed, "HTTP request to " +
                                                 escape_untrusted(request.url, 2048) +
                                                 " failed: too many redirects");
      url = location;
      // 301/302/303 turn into a GET without a body, as browsers and curl do.
      if (status == 303 || ((status == 301 || status == 302) && method == "POST")) {
        method = "GET";
        body.reset();
      }
      continue;
    }
    return {std::move(t.response), std::nullopt};
  }
}

}  // namespace warden::extism
