// Byte sizes as policy documents write them: "512MB", "64 MiB", "4096". One parser and one
// printer, so a limit reads the same in a document and in the messages about it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::policy {

// An integer count of bytes, then optionally one space, then optionally a unit: B, KB, MB, GB
// (powers of 1000) or KiB, MiB, GiB (powers of 1024); units are case-sensitive. "32MB" ->
// 32000000, "64 MiB" -> 67108864, "512" -> 512. nullopt for anything else: an empty text, a sign,
// a fraction ("1.5GiB"), an unknown unit, spaces other than the one, or a value past UINT64_MAX.
std::optional<uint64_t> parse_size(std::string_view text);

// Exact, for messages: the largest unit that divides `bytes` and gives the shortest number
// ("64 MiB", "32 MB"), else bytes ("1234 B", "0 B"). parse_size(format_size(n)) == n.
std::string format_size(uint64_t bytes);

}  // namespace warden::policy
