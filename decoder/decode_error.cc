#include "decoder/decode_error.h"

#include <cstdio>

namespace warden {
namespace {

constexpr std::string_view kTexts[] = {
#define DECODE_ERROR(code, text) text,
#include "decoder/decode_errors.def"
#undef DECODE_ERROR
};
constexpr std::string_view kNames[] = {
#define DECODE_ERROR(code, text) #code,
#include "decoder/decode_errors.def"
#undef DECODE_ERROR
};

}  // namespace

std::string_view decode_error_text(DecodeErrorCode code) {
  return kTexts[static_cast<size_t>(code)];
}
std::string_view decode_error_name(DecodeErrorCode code) {
  return kNames[static_cast<size_t>(code)];
}

DecodeError make_decode_error(DecodeErrorCode code, uint64_t offset, std::string_view detail) {
  DecodeError error;
  error.code = code;
  error.offset = offset;
  error.message = std::string(decode_error_text(code));
  if (!detail.empty()) {
    error.message += ": ";
    error.message += detail;
  }
  return error;
}

std::string DecodeError::to_string() const {
  char head[64];
  std::snprintf(head, sizeof head,
                "decode error at offset 0x%llx: ", static_cast<unsigned long long>(offset));
  return head + message;
}

}  // namespace warden
