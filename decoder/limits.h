// Implementation limits, as the WebAssembly JS API specifies and browsers enforce them.
// Every count read from a binary is checked against one of these before anything is allocated.
#pragma once

#include <cstdint>

namespace warden::limits {

inline constexpr uint32_t kMaxTypes = 1'000'000;
inline constexpr uint32_t kMaxFunctions = 1'000'000;
inline constexpr uint32_t kMaxImports = 100'000;
inline constexpr uint32_t kMaxExports = 100'000;
inline constexpr uint32_t kMaxGlobals = 1'000'000;
inline constexpr uint32_t kMaxDataSegments = 100'000;
inline constexpr uint32_t kMaxElemSegments = 100'000;
inline constexpr uint32_t kMaxTables = 100'000;
inline constexpr uint32_t kMaxMemories = 100'000;
inline constexpr uint32_t kMaxTableEntries = 10'000'000;
inline constexpr uint32_t kMaxElemSegmentEntries = 10'000'000;
inline constexpr uint32_t kMaxLocals = 50'000;
inline constexpr uint32_t kMaxFunctionBodySize = 7'654'321;
inline constexpr uint32_t kMaxParams = 1'000;
inline constexpr uint32_t kMaxResults = 1'000;
inline constexpr uint32_t kMaxMemoryPages = 65'536;
inline constexpr uint32_t kMaxModuleSize = 1'024u * 1'024u * 1'024u;  // 1 GiB
inline constexpr uint32_t kMaxBrTableTargets = 1'000'000;
inline constexpr uint32_t kMaxSelectTypes = 1'000;
inline constexpr uint32_t kMaxStringLength = 100'000;

}  // namespace warden::limits
