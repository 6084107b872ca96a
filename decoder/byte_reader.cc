#include "decoder/byte_reader.h"

#include <string>

namespace warden {

bool ByteReader::fail(DecodeErrorCode code, std::string_view detail) {
  return fail_at(offset(), code, detail);
}

bool ByteReader::fail_at(uint64_t at, DecodeErrorCode code, std::string_view detail) {
  if (!failed_) {
    failed_ = true;
    error_ = make_decode_error(code, at, detail);
    pos_ = end_;  // nothing more can be read after the first error
  }
  return false;
}

bool ByteReader::fail_with(const DecodeError& error) {
  if (!failed_) {
    failed_ = true;
    error_ = error;
    pos_ = end_;
  }
  return false;
}

bool ByteReader::skip(uint64_t n, DecodeErrorCode code) {
  if (failed_) return false;
  if (n > remaining())
    return fail_at(base_ + (end_ - begin_),
                   code == DecodeErrorCode::UnexpectedEnd ? end_code_ : code);
  pos_ += n;
  return true;
}

bool ByteReader::sub_reader(uint64_t n, ByteReader& out, DecodeErrorCode code) {
  if (failed_) return false;
  if (n > remaining()) {
    return fail(code,
                std::to_string(n) + " bytes declared, " + std::to_string(remaining()) + " remain");
  }
  out = ByteReader({pos_, static_cast<size_t>(n)}, offset());
  out.end_code_ = DecodeErrorCode::UnexpectedEndOfSection;
  pos_ += n;
  return true;
}

bool ByteReader::read_bytes(size_t n, const uint8_t*& out) {
  if (failed_) return false;
  if (n > remaining()) return fail_at(base_ + (end_ - begin_), end_code_);
  out = pos_;
  pos_ += n;
  return true;
}

bool ByteReader::read_fixed_u32(uint32_t& out) {
  const uint8_t* p = nullptr;
  if (!read_bytes(4, p)) return false;
  out = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return true;
}

bool ByteReader::read_fixed_u64(uint64_t& out) {
  uint32_t lo = 0, hi = 0;
  if (!read_fixed_u32(lo) || !read_fixed_u32(hi)) return false;
  out = uint64_t(lo) | uint64_t(hi) << 32;
  return true;
}

// Reads an N-bit LEB128 integer. The last permitted byte may use only the bits that remain of N;
// its other bits must be zero (unsigned) or copies of the sign bit (signed).
template <class T, unsigned Bits, bool Signed>
bool ByteReader::read_leb(T& out) {
  if (failed_) return false;
  constexpr unsigned kMaxBytes = (Bits + 6) / 7;
  uint64_t result = 0;
  for (unsigned i = 0; i < kMaxBytes; ++i) {
    if (pos_ == end_) return fail(end_code_);
    const uint8_t byte = *pos_++;
    const unsigned shift = 7 * i;
    result |= uint64_t(byte & 0x7F) << shift;
    const bool more = byte & 0x80;
    if (i == kMaxBytes - 1) {
      if (more) return fail_at(offset() - 1, DecodeErrorCode::IntegerTooLong);
      const unsigned used = Bits - shift;  // bits of this byte that belong to the value
      if (used < 7) {
        const uint8_t unused = static_cast<uint8_t>(byte & 0x7F) >> used;
        const uint8_t sign_fill = (byte >> (used - 1)) & 1 ? (0x7F >> used) : 0;
        const uint8_t allowed = Signed ? sign_fill : 0;
        if (unused != allowed) return fail_at(offset() - 1, DecodeErrorCode::IntegerTooLarge);
      }
    }
    if (!more) {
      if constexpr (Signed) {
        const unsigned total = shift + 7;
        if (total < 64 && (byte & 0x40)) result |= ~uint64_t(0) << total;
      }
      out = static_cast<T>(result);
      return true;
    }
  }
  return fail(DecodeErrorCode::IntegerTooLong);  // not reached: the loop returns
}

template bool ByteReader::read_leb<uint32_t, 32, false>(uint32_t&);
template bool ByteReader::read_leb<uint64_t, 64, false>(uint64_t&);
template bool ByteReader::read_leb<int32_t, 32, true>(int32_t&);
template bool ByteReader::read_leb<int64_t, 33, true>(int64_t&);
template bool ByteReader::read_leb<int64_t, 64, true>(int64_t&);

bool ByteReader::read_count(uint32_t& out, uint32_t limit, const char* what) {
  const uint64_t at = offset();
  if (!read_u32(out)) return false;
  if (out > limit) {
    return fail_at(at, DecodeErrorCode::ImplementationLimit,
                   std::to_string(out) + " " + what + ", at most " + std::to_string(limit));
  }
  return true;
}

bool ByteReader::read_name(std::string& out) {
  const uint64_t at = offset();
  uint32_t length;
  if (!read_u32(length)) return false;
  if (length > remaining()) {
    return fail_at(
        at, DecodeErrorCode::LengthOutOfBounds,
        "name of " + std::to_string(length) + " bytes, " + std::to_string(remaining()) + " remain");
  }
  const uint8_t* p;
  if (!read_bytes(length, p)) return false;
  std::string_view text(reinterpret_cast<const char*>(p), length);
  if (!is_valid_utf8(text)) return fail_at(at, DecodeErrorCode::MalformedUtf8);
  out.assign(text);
  return true;
}

bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((b & 0xE0) == 0xC0) {
      n = 2;
      cp = b & 0x1F;
      min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3;
      cp = b & 0x0F;
      min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4;
      cp = b & 0x07;
      min = 0x10000;
    } else
      return false;
    if (static_cast<size_t>(end - p) < n) return false;
    for (size_t i = 1; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n;
  }
  return true;
}

}  // namespace warden
