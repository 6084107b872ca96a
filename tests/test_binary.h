// Helpers to write WebAssembly binaries by hand in tests.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace warden::test {

using Bytes = std::vector<uint8_t>;

// Bytes of a string literal, embedded NULs included ("\0asm").
template <size_t N>
Bytes B(const char (&text)[N]) {
  return Bytes(text, text + N - 1);
}

inline Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes leb(uint64_t value) {
  Bytes out;
  do {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    out.push_back(value ? byte | 0x80 : byte);
  } while (value);
  return out;
}

inline Bytes header() { return B("\0asm\1\0\0\0"); }

inline Bytes section(uint8_t id, const Bytes& payload) {
  return Bytes{id} + leb(payload.size()) + payload;
}

// header, a type section with () -> (), a function section with one function of that type, and
// a code section holding `body` (locals and instructions). For a body shorter than 128 bytes the
// code section's id is at 18, its size at 19, the body count at 20, the body size at 21, the
// locals count at 22 and, without locals, the first instruction at 23.
inline Bytes module_with_body(const Bytes& body) {
  return header() + B("\x01\x04\x01\x60\x00\x00") + B("\x03\x02\x01\x00") +
         section(0x0A, B("\x01") + leb(body.size()) + body);
}

}  // namespace warden::test
