// Plugin logging: the five Extism levels and how untrusted messages are made safe to print.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace warden::extism {

// The values get_log_level returns.
enum class LogLevel : int32_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 0x7fffffff };

std::string_view log_level_name(LogLevel level);  // "trace" ... "error", "off"
// "trace", "debug", "info", "warn" (or "warning"), "error", "off"; case-insensitive.
std::optional<LogLevel> parse_log_level(std::string_view text);

// Where log lines go; the embedder chooses (the CLI prints them on stderr).
using LogSink = std::function<void(LogLevel, std::string_view message)>;

// A message as it may be shown: at most `max_bytes` of input, control characters and invalid
// UTF-8 escaped (\n, \t, \x1b, ...), so a plugin cannot forge log lines or terminal sequences.
std::string sanitize_log_message(std::string_view message, size_t max_bytes);

}  // namespace warden::extism
