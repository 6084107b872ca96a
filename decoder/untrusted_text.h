// Untrusted bytes as text that is safe to show: guest names, plugin messages, URLs and headers a
// plugin built, file names. The one escaper for every place where such bytes become text (errors,
// logs, the CLI's output, JSON): a guest cannot clear a terminal, forge a line or reorder text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden {

// At most `max_bytes` of `bytes` (then " [truncated]"), with everything that is not printable
// escaped: ASCII controls and DEL as \n, \r, \t or \xHH, C1 controls, bidirectional
// controls and line separators byte by byte as \xHH, bytes that are not valid UTF-8 as \xHH, and
// the backslash itself as \\. Printable ASCII and valid UTF-8 otherwise pass unchanged, so the
// result is valid UTF-8.
std::string escape_untrusted(std::string_view bytes, size_t max_bytes = SIZE_MAX);

// Quoted: "..." around escape_untrusted(), with a quote inside escaped as \".
std::string quote_untrusted(std::string_view bytes, size_t max_bytes = SIZE_MAX);

}  // namespace warden
