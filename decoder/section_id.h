// Section ids of the binary format, and the order they must appear in.
#pragma once

#include <cstdint>
#include <string_view>

namespace warden {

enum class SectionId : uint8_t {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
  DataCount = 12,
  None = 0xFF,  // not inside any section (header, or not applicable)
};

inline constexpr uint8_t kMaxSectionId = 12;

std::string_view section_name(SectionId id);

// Position in the mandated order; DataCount sits between Element and Code.
constexpr int section_order(SectionId id) {
  switch (id) {
    case SectionId::Type: return 1;
    case SectionId::Import: return 2;
    case SectionId::Function: return 3;
    case SectionId::Table: return 4;
    case SectionId::Memory: return 5;
    case SectionId::Global: return 6;
    case SectionId::Export: return 7;
    case SectionId::Start: return 8;
    case SectionId::Element: return 9;
    case SectionId::DataCount: return 10;
    case SectionId::Code: return 11;
    case SectionId::Data: return 12;
    default: return 0;
  }
}

}  // namespace warden
