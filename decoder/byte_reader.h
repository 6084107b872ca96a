// ByteReader: a bounded cursor over a binary. Every read checks the bound first, so no input can
// make it read outside [begin, end). A failed read records the first error and returns false;
// after that every read fails, so the earliest error is the one reported.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "decoder/decode_error.h"

namespace warden {

class ByteReader {
 public:
  // `base` is the absolute offset of data[0] in the module, for error positions.
  ByteReader() : ByteReader(std::span<const uint8_t>{}) {}
  // A reader only borrows its bytes: reading from a temporary vector would dangle.
  ByteReader(std::vector<uint8_t>&&, uint64_t = 0) = delete;
  ByteReader(std::span<const uint8_t> data, uint64_t base = 0)
      : begin_(data.data()), pos_(data.data()), end_(data.data() + data.size()), base_(base) {}

  uint64_t offset() const { return base_ + static_cast<uint64_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool at_end() const { return pos_ == end_; }
  bool failed() const { return failed_; }
  const DecodeError& error() const { return error_; }
  const uint8_t* position() const { return pos_; }

  // The reader of the next n bytes; this reader skips past them. Fails if fewer remain.
  [[nodiscard]] bool sub_reader(uint64_t n, ByteReader& out, DecodeErrorCode code);
  [[nodiscard]] bool skip(uint64_t n, DecodeErrorCode code = DecodeErrorCode::UnexpectedEnd);

  // After a failure pos_ == end_, so the fast paths below never read past an error.
  [[nodiscard]] bool read_u8(uint8_t& out) {
    if (pos_ != end_) [[likely]] {
      out = *pos_++;
      return true;
    }
    fail(end_code_);
    return false;  // (not `return fail(...)`: the compiler must see that `out` is unused then)
  }
  [[nodiscard]] bool read_bytes(size_t n, const uint8_t*& out);
  [[nodiscard]] bool read_fixed_u32(uint32_t& out);  // little-endian, for f32 bits and magic
  [[nodiscard]] bool read_fixed_u64(uint64_t& out);

  // LEB128 exactly per spec: at most ceil(N/7) bytes, and the unused bits of the last byte must be
  // zero (unsigned) or a sign extension (signed). Errors: "integer representation too long" for
  // too many bytes, "integer too large" for bad unused bits.
  // Inline for the one-byte case (most LEBs in real code); longer ones go to read_leb.
  [[nodiscard]] bool read_u32(uint32_t& out) {
    return read_short(out) || read_leb<uint32_t, 32, false>(out);
  }
  [[nodiscard]] bool read_u64(uint64_t& out) {
    return read_short(out) || read_leb<uint64_t, 64, false>(out);
  }
  [[nodiscard]] bool read_s32(int32_t& out) {
    return read_short(out) || read_leb<int32_t, 32, true>(out);
  }
  [[nodiscard]] bool read_s33(int64_t& out) {
    return read_short(out) || read_leb<int64_t, 33, true>(out);
  }
  [[nodiscard]] bool read_s64(int64_t& out) {
    return read_short(out) || read_leb<int64_t, 64, true>(out);
  }

  // A vector length or count: read_u32, then checked against `limit` ("implementation limit
  // exceeded"). Callers must not allocate `out` entries up front: a 5-byte count can claim far
  // more entries than there are bytes. Use reserve_for() and grow as entries are read, so memory
  // stays proportional to the input and a short vector fails with the error of its first
  // missing entry, as the spec's reader does.
  [[nodiscard]] bool read_count(uint32_t& out, uint32_t limit, const char* what);

  // How many of `count` entries can be reserved without trusting the count: at most one per byte.
  size_t reserve_for(uint32_t count) const { return count < remaining() ? count : remaining(); }

  // A name: u32 length, then that many bytes of valid UTF-8.
  [[nodiscard]] bool read_name(std::string& out);

  // Records an error at the current position (or `at`) unless one is recorded already.
  bool fail(DecodeErrorCode code, std::string_view detail = {});
  bool fail_at(uint64_t at, DecodeErrorCode code, std::string_view detail = {});
  // Takes over an error recorded by another reader (a section's or a body's).
  bool fail_with(const DecodeError& error);

 private:
  // A one-byte LEB128 (no continuation bit), sign-extended from bit 6 for signed types.
  template <class T>
  bool read_short(T& out) {
    if (pos_ == end_ || (*pos_ & 0x80)) return false;
    const uint8_t byte = *pos_++;
    if constexpr (std::is_signed_v<T>) {
      out = static_cast<T>(static_cast<int8_t>(static_cast<uint8_t>(byte << 1)) >> 1);
    } else {
      out = static_cast<T>(byte);
    }
    return true;
  }
  template <class T, unsigned Bits, bool Signed>
  bool read_leb(T& out);

  const uint8_t* begin_;
  const uint8_t* pos_;
  const uint8_t* end_;
  uint64_t base_;
  bool failed_ = false;
  // What running out of bytes is called here: inside a section or body, the spec's
  // "unexpected end of section or function"; at the top level, "unexpected end".
  DecodeErrorCode end_code_ = DecodeErrorCode::UnexpectedEnd;
  DecodeError error_;
};

// True when [data, data+size) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace warden
