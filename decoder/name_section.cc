#include "decoder/name_section.h"

#include "decoder/byte_reader.h"
#include "decoder/limits.h"

namespace warden {
namespace {

enum : uint8_t { kModuleName = 0, kFunctionNames = 1, kLocalNames = 2 };

// name map ::= vec(idx name)
bool read_name_map(ByteReader& r, std::unordered_map<uint32_t, std::string>& out) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxFunctions, "names")) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index;
    std::string name;
    if (!r.read_u32(index) || !r.read_name(name)) return false;
    out[index] = std::move(name);
  }
  return true;
}

bool read_subsection(uint8_t id, ByteReader& r, NameSection& out) {
  switch (id) {
    case kModuleName: {
      std::string name;
      if (!r.read_name(name)) return false;
      out.module_name = std::move(name);
      return true;
    }
    case kFunctionNames: return read_name_map(r, out.function_names);
    case kLocalNames: {
      uint32_t count;
      if (!r.read_count(count, limits::kMaxFunctions, "functions")) return false;
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t func;
        if (!r.read_u32(func) || !read_name_map(r, out.local_names[func])) return false;
      }
      return true;
    }
    default: return r.skip(r.remaining());  // other subsections (labels, types, ...) skipped
  }
}

}  // namespace

NameSection parse_name_section(std::span<const uint8_t> content, uint64_t base) {
  NameSection names;
  ByteReader r(content, base);
  while (!r.at_end()) {
    uint8_t id;
    uint32_t size;
    ByteReader sub;
    if (!r.read_u8(id) || !r.read_u32(size) ||
        !r.sub_reader(size, sub, DecodeErrorCode::UnexpectedEnd) ||
        !read_subsection(id, sub, names) || !sub.at_end()) {
      return {};
    }
  }
  return names;
}

}  // namespace warden
