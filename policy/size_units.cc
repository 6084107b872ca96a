// Byte sizes: the unit table is the one fact, shared by the parser and the printer.
#include "policy/size_units.h"

#include <array>

namespace warden::policy {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Largest first, so format_size() finds the shortest exact form.
constexpr std::array<Unit, 7> kUnits = {{
    {"GiB", 1ull << 30}, {"GB", 1000000000ull}, {"MiB", 1ull << 20}, {"MB", 1000000ull},
    {"KiB", 1ull << 10}, {"KB", 1000ull},       {"B", 1},
}};

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t i = 0;
  uint64_t count = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (count > (UINT64_MAX - digit) / 10) return std::nullopt;
    count = count * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;  // no digits: empty, a sign, a leading space or a unit alone
  std::string_view rest = text.substr(i);
  if (rest.empty()) return count;
  if (rest.front() == ' ') rest.remove_prefix(1);
  for (const Unit& unit : kUnits) {
    if (rest != unit.name) continue;
    if (count > UINT64_MAX / unit.factor) return std::nullopt;
    return count * unit.factor;
  }
  return std::nullopt;
}

std::string format_size(uint64_t bytes) {
  const Unit* best = &kUnits.back();
  uint64_t shortest = bytes;
  for (const Unit& unit : kUnits) {
    if (bytes == 0 || bytes % unit.factor != 0 || bytes / unit.factor >= shortest) continue;
    best = &unit;
    shortest = bytes / unit.factor;
  }
  return std::to_string(shortest) + " " + std::string(best->name);
}

}  // namespace warden::policy
