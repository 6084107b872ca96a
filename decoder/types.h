// The type vocabulary of Wasm 2.0 modules: value types, function types, limits, index spaces.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

// Value types carry their binary encoding, so decoding is a range check and a cast.
enum class ValType : uint8_t {
  I32 = 0x7F,
  I64 = 0x7E,
  F32 = 0x7D,
  F64 = 0x7C,
  V128 = 0x7B,
  FuncRef = 0x70,
  ExternRef = 0x6F,
};

constexpr bool is_valtype_byte(uint8_t b) {
  return (b >= 0x7B && b <= 0x7F) || b == 0x70 || b == 0x6F;
}
constexpr bool is_reftype(ValType t) { return t == ValType::FuncRef || t == ValType::ExternRef; }
constexpr bool is_numeric(ValType t) { return !is_reftype(t) && t != ValType::V128; }
std::string_view valtype_name(ValType t);  // "i32", "funcref", ...

// Strong index types: a FuncIdx cannot be passed where a TypeIdx is expected.
template <class Tag>
struct Index {
  uint32_t value = 0;
  constexpr Index() = default;
  constexpr explicit Index(uint32_t v) : value(v) {}
  constexpr auto operator<=>(const Index&) const = default;
};
using TypeIdx = Index<struct TypeTag>;
using FuncIdx = Index<struct FuncTag>;
using TableIdx = Index<struct TableTag>;
using MemIdx = Index<struct MemTag>;
using GlobalIdx = Index<struct GlobalTag>;
using ElemIdx = Index<struct ElemTag>;
using DataIdx = Index<struct DataTag>;
using LocalIdx = Index<struct LocalTag>;
using LabelIdx = Index<struct LabelTag>;

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType&) const = default;
};
std::string to_string(const FuncType& type);  // "(i32, i64) -> (f32)"

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool operator==(const Limits&) const = default;
};

struct TableType {
  ValType element = ValType::FuncRef;  // always a reference type
  Limits limits;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

struct GlobalType {
  ValType type = ValType::I32;
  bool is_mutable = false;
};

enum class ExternKind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3 };
std::string_view extern_kind_name(ExternKind kind);  // "func", "table", "memory", "global"

// A block's type: empty, one value type, or an index into the type section (multi-value).
struct BlockType {
  enum class Kind : uint8_t { Empty, Value, TypeIndex };
  Kind kind = Kind::Empty;
  ValType value = ValType::I32;  // when kind == Value
  uint32_t type_index = 0;       // when kind == TypeIndex
};

inline constexpr uint32_t kPageSize = 65536;

}  // namespace warden
