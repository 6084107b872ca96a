// ValidationError: what the validator reports when a well-formed module breaks a typing rule.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "decoder/decode_error.h"
#include "decoder/section_id.h"

namespace warden {

enum class ValidationErrorCode : uint8_t {
#define VALIDATION_ERROR(code, text) code,
#include "validator/validation_errors.def"
#undef VALIDATION_ERROR
};

std::string_view validation_error_text(ValidationErrorCode code);
std::string_view validation_error_name(ValidationErrorCode code);

struct ValidationError {
  ValidationErrorCode code = ValidationErrorCode::TypeMismatch;
  uint64_t offset = 0;                  // byte offset of the offending instruction or entry
  SectionId section = SectionId::None;  // section of the offending entry
  uint32_t index = kNoIndex;            // function index (code section) or entry index
  std::string message;                  // validation_error_text(code) [+ ": " detail]

  // "validation error at offset 0x2a: type mismatch: ..."
  std::string to_string() const;
};

}  // namespace warden
