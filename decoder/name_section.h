// The "name" custom section: module, function and local names for backtraces and inspect.
#pragma once

#include <cstdint>
#include <span>

#include "decoder/module.h"

namespace warden {

// Parses the section's content (after its name). A malformed section is not an error: the
// spec says custom sections never make a module invalid, so the result is then empty.
NameSection parse_name_section(std::span<const uint8_t> content, uint64_t base);

}  // namespace warden
