#include "decoder/untrusted_text.h"

#include <cstdio>

namespace warden {
namespace {

// Length of the valid UTF-8 sequence at s[i] and its code point, or 0.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2, cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3, cp = b & 0x0F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4, cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

// C1 controls, bidirectional embeddings/overrides/isolates, and the line and paragraph
// separators: shown escaped even though they are valid UTF-8.
bool is_hidden(uint32_t cp) {
  return cp <= 0x9F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

void escape_into(std::string& out, std::string_view s, bool quote) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\' || (quote && c == '"')) out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    char buf[16];
    if (c >= 0x80) {
      uint32_t cp = 0;
      if (const size_t n = utf8_sequence(s, i, cp)) {
        if (!is_hidden(cp)) {
          out.append(s.substr(i, n));
          i += n;
          continue;
        }
        for (size_t k = 0; k < n; ++k) {  // hidden: each byte as \xHH
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i + k]));
          out += buf;
        }
        i += n;
        continue;
      }
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: std::snprintf(buf, sizeof buf, "\\x%02x", c); out += buf;
    }
    ++i;
  }
}

}  // namespace

std::string escape_untrusted(std::string_view bytes, size_t max_bytes) {
  const bool truncated = bytes.size() > max_bytes;
  if (truncated) bytes = bytes.substr(0, max_bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  escape_into(out, bytes, false);
  if (truncated) out += " [truncated]";
  return out;
}

std::string quote_untrusted(std::string_view bytes, size_t max_bytes) {
  const bool truncated = bytes.size() > max_bytes;
  if (truncated) bytes = bytes.substr(0, max_bytes);
  std::string out = "\"";
  escape_into(out, bytes, true);
  out += '"';
  if (truncated) out += " [truncated]";
  return out;
}

}  // namespace warden
