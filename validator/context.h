// What the validator knows while it checks one module: the module itself, the features, the set
// of functions that may be referenced by ref.func, and the one place errors are made.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decoder/features.h"
#include "decoder/module.h"
#include "validator/validation_error.h"

namespace warden {

struct ValidationContext {
  const Module& module;
  Features features;
  std::vector<bool> declared_refs;  // C.refs: functions named outside function bodies
  ValidationError error;            // the first error, once failed
  bool failed = false;

  // Records the first error and returns false, so checks read `if (!x) return ctx.fail(...)`.
  bool fail(ValidationErrorCode code, uint64_t offset, std::string_view detail = {},
            SectionId section = SectionId::None, uint32_t index = kNoIndex);

  std::span<const uint8_t> bytes_of(ByteRange range) const {
    return {module.bytes.data() + range.offset, range.size};
  }
};

// "unknown function 7": the spec's text followed by the index.
std::string index_detail(uint32_t index);

}  // namespace warden
