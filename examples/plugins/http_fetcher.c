// HTTP: GET the URL given as input; output "STATUS\nBODY". `headers` outputs the last response's
// headers as JSON (when the host enables them), `post` sends the input as the body of a POST to
// the URL in config "url".
#include "extism.h"

static char request[8192];

static uint64_t build(const char* method) {
  static const char a[] = "{\"url\":\"", b[] = "\",\"method\":\"", c[] = "\"}";
  uint64_t n = 0, len = extism_input_length();
  for (uint64_t i = 0; a[i]; ++i) request[n++] = a[i];
  for (uint64_t i = 0; i < len && n < 4000; ++i) request[n++] = (char)extism_input_load_u8(i);
  for (uint64_t i = 0; b[i]; ++i) request[n++] = b[i];
  for (uint64_t i = 0; method[i]; ++i) request[n++] = method[i];
  for (uint64_t i = 0; c[i]; ++i) request[n++] = c[i];
  return n;
}

static int32_t respond(Handle body) {
  int32_t status = extism_http_status_code();
  char head[16];
  int n = 0;
  char digits[12];
  int d = 0;
  do digits[d++] = (char)('0' + status % 10), status /= 10;
  while (status);
  while (d) head[n++] = digits[--d];
  head[n++] = '\n';
  uint64_t blen = body ? extism_length(body) : 0;
  Handle out = extism_alloc(n + blen);
  for (int i = 0; i < n; ++i) extism_store_u8(out + i, (uint8_t)head[i]);
  for (uint64_t i = 0; i < blen; ++i) extism_store_u8(out + n + i, extism_load_u8(body + i));
  extism_output_set(out, n + blen);
  return 0;
}

EXPORT(fetch) int32_t fetch(void) {
  uint64_t n = build("GET");
  return respond(extism_http_request(to_kernel(request, n), 0));
}

EXPORT(post) int32_t post(void) {
  uint64_t n = build("POST");
  return respond(extism_http_request(to_kernel(request, n), to_kernel_str("posted body")));
}

EXPORT(headers) int32_t headers(void) {
  uint64_t n = build("GET");
  extism_http_request(to_kernel(request, n), 0);
  Handle h = extism_http_headers();
  extism_output_set(h, h ? extism_length(h) : 0);
  return 0;
}

// No HTTP at all: shows the plugin still works after a refused request.
EXPORT(ping) int32_t ping(void) {
  output_str("pong");
  return 0;
}
