// A typed WebAssembly value as the embedding API passes it: a type and its 64 raw bits.
// Numbers are stored bit-exactly (NaN payloads survive). References: a funcref is the address of
// a Function of the same Store; an externref is any non-zero host word. 0 is null for both.
#pragma once

#include <bit>
#include <cstdint>
#include <string>

#include "decoder/types.h"

namespace warden {

struct Function;

struct Value {
  ValType type = ValType::I32;
  uint64_t bits = 0;

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

  int32_t as_i32() const { return static_cast<int32_t>(static_cast<uint32_t>(bits)); }
  int64_t as_i64() const { return static_cast<int64_t>(bits); }
  float as_f32() const { return std::bit_cast<float>(static_cast<uint32_t>(bits)); }
  double as_f64() const { return std::bit_cast<double>(bits); }
  bool is_null() const { return bits == 0; }
  const Function* as_funcref() const { return reinterpret_cast<const Function*>(bits); }

  bool operator==(const Value&) const = default;
};

// "i32:42", "f64:1.5", "funcref:null" ... for messages and the CLI.
std::string to_string(const Value& v);

// The zero value of a type (locals, table and global defaults).
inline Value default_value(ValType t) { return {t, 0}; }

}  // namespace warden
