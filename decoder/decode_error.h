// DecodeError: what the decoder reports when bytes are not a well-formed Wasm binary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "decoder/section_id.h"

namespace warden {

enum class DecodeErrorCode : uint8_t {
#define DECODE_ERROR(code, text) code,
#include "decoder/decode_errors.def"
#undef DECODE_ERROR
};

// The spec-suite wording for a code (the start of every message with that code).
std::string_view decode_error_text(DecodeErrorCode code);
std::string_view decode_error_name(DecodeErrorCode code);

inline constexpr uint32_t kNoIndex = UINT32_MAX;

struct DecodeError {
  DecodeErrorCode code = DecodeErrorCode::UnexpectedEnd;
  uint64_t offset = 0;                  // byte offset in the module where the fault is
  SectionId section = SectionId::None;  // section being read, None for the header
  uint32_t index = kNoIndex;            // entry within the section, if any
  std::string message;                  // decode_error_text(code) [+ ": " detail]

  // "decode error at offset 0x1f: section size mismatch: ..."
  std::string to_string() const;
};

DecodeError make_decode_error(DecodeErrorCode code, uint64_t offset, std::string_view detail = {});

}  // namespace warden
