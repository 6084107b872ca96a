// Text helpers shared by the policy document parser and its consistency checks.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "decoder/untrusted_text.h"
#include "policy/policy_document.h"

namespace warden::policy::detail {

inline constexpr size_t kQuoteBytes = 200;  // document text quoted in a message

// Document text, quoted and escaped (a YAML file can hold terminal escapes).
inline std::string q(std::string_view text) { return quote_untrusted(text, kQuoteBytes); }

inline std::string format_number(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "?";
}

inline std::string location_text(const SourceLocation& where) {
  if (where.line <= 0) return where.file;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

}  // namespace warden::policy::detail
