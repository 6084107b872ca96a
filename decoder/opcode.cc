// Lookup tables from bytes and text to opcodes, built at compile time from opcodes.def.
#include "decoder/opcode.h"

#include <algorithm>
#include <unordered_map>

namespace warden {
namespace {

constexpr size_t kFcTableSize = 32;
constexpr size_t kFdTableSize = 0x114;

constexpr bool rows_sorted_and_unique() {
  for (size_t i = 1; i < kOpcodeCount; ++i) {
    const auto& a = detail::kOpcodeInfo[i - 1];
    const auto& b = detail::kOpcodeInfo[i];
    if (a.prefix > b.prefix || (a.prefix == b.prefix && a.code >= b.code)) return false;
  }
  return true;
}
static_assert(rows_sorted_and_unique(), "opcodes.def rows must be sorted by (prefix, code)");

constexpr bool codes_fit_tables() {
  for (const auto& info : detail::kOpcodeInfo) {
    if (info.prefix == 0 && info.code > 0xFF) return false;
    if (info.prefix == 0xFC && info.code >= kFcTableSize) return false;
    if (info.prefix == 0xFD && info.code >= kFdTableSize) return false;
    if (info.prefix != 0 && info.prefix != 0xFC && info.prefix != 0xFD) return false;
  }
  return true;
}
static_assert(codes_fit_tables(), "an opcodes.def code does not fit its lookup table");

constexpr bool mem_bytes_only_on_memory_accesses() {
  for (const auto& info : detail::kOpcodeInfo) {
    const bool access = info.imm == ImmKind::MemArg || info.imm == ImmKind::MemArgLane;
    if (access != (info.mem_bytes != 0)) return false;
  }
  return true;
}
static_assert(mem_bytes_only_on_memory_accesses(),
              "mem_bytes must be set exactly on MemArg/MemArgLane rows");

static_assert(detail::kOpcodeOfByte[0xFC] == detail::kNoOpcode &&
                  detail::kOpcodeOfByte[0xFD] == detail::kNoOpcode,
              "prefix bytes must not decode as opcodes");
constexpr auto kPrefixFc = detail::make_opcode_table<kFcTableSize>(0xFC);
constexpr auto kPrefixFd = detail::make_opcode_table<kFdTableSize>(0xFD);

}  // namespace

std::optional<Opcode> opcode_from_prefixed(uint8_t prefix, uint32_t code) {
  if (prefix == 0) return code <= 0xFF ? opcode_from_byte(uint8_t(code)) : std::nullopt;
  if (prefix == 0xFC)
    return code < kFcTableSize ? detail::opcode_of_entry(kPrefixFc[code]) : std::nullopt;
  if (prefix == 0xFD)
    return code < kFdTableSize ? detail::opcode_of_entry(kPrefixFd[code]) : std::nullopt;
  return std::nullopt;
}

std::optional<Opcode> opcode_from_text(std::string_view text) {
  static const auto* const by_text = [] {
    auto* map = new std::unordered_map<std::string_view, Opcode>();
    for (size_t i = 0; i < kOpcodeCount; ++i) {
      map->emplace(detail::kOpcodeInfo[i].text, Opcode(i));  // emplace keeps Select over SelectT
    }
    return map;
  }();
  auto it = by_text->find(text);
  if (it == by_text->end()) return std::nullopt;
  return it->second;
}

const char* imm_kind_name(ImmKind kind) {
  switch (kind) {
    case ImmKind::None: return "none";
    case ImmKind::BlockType: return "blocktype";
    case ImmKind::Label: return "labelidx";
    case ImmKind::BrTable: return "br_table";
    case ImmKind::Func: return "funcidx";
    case ImmKind::CallIndirect: return "typeidx tableidx";
    case ImmKind::Local: return "localidx";
    case ImmKind::Global: return "globalidx";
    case ImmKind::Table: return "tableidx";
    case ImmKind::Memory: return "memidx";
    case ImmKind::MemArg: return "memarg";
    case ImmKind::I32: return "i32";
    case ImmKind::I64: return "i64";
    case ImmKind::F32: return "f32";
    case ImmKind::F64: return "f64";
    case ImmKind::SelectTypes: return "vec(valtype)";
    case ImmKind::RefType: return "reftype";
    case ImmKind::MemoryInit: return "dataidx memidx";
    case ImmKind::Data: return "dataidx";
    case ImmKind::MemoryCopy: return "memidx memidx";
    case ImmKind::TableInit: return "elemidx tableidx";
    case ImmKind::Elem: return "elemidx";
    case ImmKind::TableCopy: return "tableidx tableidx";
    case ImmKind::V128: return "v128";
    case ImmKind::Shuffle: return "laneidx*16";
    case ImmKind::Lane: return "laneidx";
    case ImmKind::MemArgLane: return "memarg laneidx";
  }
  return "?";
}

}  // namespace warden
