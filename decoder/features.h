// Which WebAssembly features a decoder/validator accepts. A runtime value, not #if blocks:
// an embedder can turn SIMD off for a tenant without rebuilding.
#pragma once

namespace warden {

struct Features {
  bool simd = true;                     // 0xFD prefix, v128
  bool relaxed_simd = true;             // 0xFD 0x100..0x113 (Wasm 3.0), needs simd
  bool bulk_memory = true;              // memory.copy/fill/init, passive segments, data count
  bool reference_types = true;          // funcref/externref values, table.* ops, several tables
  bool multi_value = true;              // type-index block types, several results
  bool sign_extension = true;           // i32.extend8_s ...
  bool saturating_float_to_int = true;  // 0xFC 0..7
  bool multi_memory = false;            // more than one memory (proposal)

  static Features wasm2() { return Features{}; }
};

}  // namespace warden
