#include "validator/validation_error.h"

#include <cstdio>

namespace warden {
namespace {

constexpr std::string_view kTexts[] = {
#define VALIDATION_ERROR(code, text) text,
#include "validator/validation_errors.def"
#undef VALIDATION_ERROR
};
constexpr std::string_view kNames[] = {
#define VALIDATION_ERROR(code, text) #code,
#include "validator/validation_errors.def"
#undef VALIDATION_ERROR
};

}  // namespace

std::string_view validation_error_text(ValidationErrorCode code) {
  return kTexts[static_cast<size_t>(code)];
}
std::string_view validation_error_name(ValidationErrorCode code) {
  return kNames[static_cast<size_t>(code)];
}

std::string ValidationError::to_string() const {
  char head[64];
  std::snprintf(head, sizeof head,
                "validation error at offset 0x%llx: ", static_cast<unsigned long long>(offset));
  return head + message;
}

}  // namespace warden
