// A typed WebAssembly value as the embedding API passes it: a type and its raw bits (64, or 128
// for a v128: `bits` is its low half, lanes 0.., `hi` the high half; 0 for every other type).
// Numbers are stored bit-exactly (NaN payloads survive). References: a funcref is the address of
// a Function of the same Store; an externref is any non-zero host word. 0 is null for both.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>

#include "decoder/types.h"

namespace warden {

struct Function;

struct Value {
  ValType type = ValType::I32;
  uint64_t bits = 0;
  uint64_t hi = 0;

  static Value i32(int32_t v) { return {ValType::I32, static_cast<uint32_t>(v)}; }
  static Value i64(int64_t v) { return {ValType::I64, static_cast<uint64_t>(v)}; }
  static Value f32(float v) { return {ValType::F32, std::bit_cast<uint32_t>(v)}; }
  static Value f64(double v) { return {ValType::F64, std::bit_cast<uint64_t>(v)}; }
  static Value f32_bits(uint32_t b) { return {ValType::F32, b}; }
  static Value f64_bits(uint64_t b) { return {ValType::F64, b}; }
  static Value null(ValType ref_type) { return {ref_type, 0}; }
  static Value funcref(const Function* f) {
    return {ValType::FuncRef, reinterpret_cast<uintptr_t>(f)};
  }
  static Value externref(uint64_t host_word) { return {ValType::ExternRef, host_word}; }
  static Value v128(uint64_t low, uint64_t high) { return {ValType::V128, low, high}; }

  int32_t as_i32() const { return static_cast<int32_t>(static_cast<uint32_t>(bits)); }
  int64_t as_i64() const { return static_cast<int64_t>(bits); }
  float as_f32() const { return std::bit_cast<float>(static_cast<uint32_t>(bits)); }
  double as_f64() const { return std::bit_cast<double>(bits); }
  bool is_null() const { return bits == 0; }
  const Function* as_funcref() const { return reinterpret_cast<const Function*>(bits); }

  bool operator==(const Value&) const = default;
};

// "i32:42", "f64:1.5", "funcref:null", "v128:0x00000001 0x00000002 0x00000003 0x00000004" (four
// i32 lanes, lane 0 first) ... for messages and the CLI.
std::string to_string(const Value& v);

// Frame slots (8 bytes each) a value of type `t` takes: a v128 takes two, low half first.
constexpr uint32_t slot_width(ValType t) { return t == ValType::V128 ? 2 : 1; }
inline uint32_t slot_count(std::span<const ValType> types) {
  uint32_t n = 0;
  for (ValType t : types) n += slot_width(t);
  return n;
}
// Values to and from consecutive slots, in that layout. An i32 or f32 keeps only its low 32 bits.
inline uint64_t* store_slots(std::span<const Value> values, uint64_t* slots) {
  for (const Value& v : values) {
    *slots++ = v.bits;
    if (v.type == ValType::V128) *slots++ = v.hi;
  }
  return slots;
}
inline const uint64_t* load_slot(ValType t, const uint64_t* slots, Value& out) {
  out.type = t;
  out.bits = *slots++;
  out.hi = 0;
  if (t == ValType::I32 || t == ValType::F32) out.bits &= 0xFFFFFFFFu;
  if (t == ValType::V128) out.hi = *slots++;
  return slots;
}

// The zero value of a type (locals, table and global defaults).
inline Value default_value(ValType t) { return {t, 0}; }

}  // namespace warden
